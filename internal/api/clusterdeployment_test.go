package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/apitest"
	"github.com/snapexport/snapexport/internal/service"
)

// TestClusterConnectionStrings: a cluster bound to a deployment shows its
// connection string without credentials or secret options, as standard
// (and standardSrv for a mongodb+srv URI), once IDLE; an unbound one, or
// one Atlas would still be creating, shows none, as Atlas's CREATING
// clusters do.
func TestClusterConnectionStrings(t *testing.T) {
	clock := newClock(time.Date(2026, 8, 10, 3, 0, 0, 0, time.UTC))
	e := newEnv(t, envOptions{clock: clock, clusterChangeDelay: time.Minute})
	const password, token = "pa55-S3cret", "t0ken-S3cret"
	e.cluster(t, service.ClusterInput{Name: "replicas", Deployment: &service.DeploymentInput{
		URI: "mongodb://backup:" + password + "@db0.example.com:27017,db1.example.com:27017/?replicaSet=rs0&tls=true&authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:" + token}})
	e.cluster(t, service.ClusterInput{Name: "srv", Deployment: &service.DeploymentInput{
		URI: "mongodb+srv://backup:" + password + "@cluster0.example.net/?authSource=admin&tlsCertificateKeyFilePassword=" + token, Consistency: snapexport.ConsistencyNone}})
	e.cluster(t, service.ClusterInput{Name: "unbound"})

	type connStrings struct {
		Standard    *string `json:"standard"`
		StandardSrv *string `json:"standardSrv"`
	}
	get := func(name, accept string) connStrings {
		t.Helper()
		got := e.Do(t, apitest.Request{Path: e.clustersPath() + "/" + name, Accept: accept})
		apitest.WantStatus(t, got, http.StatusOK)
		for _, secret := range []string{password, token} {
			if strings.Contains(string(got.Body), secret) {
				t.Errorf("cluster %s shows a secret: %s", name, got.Body)
			}
		}
		var body struct {
			ConnectionStrings connStrings `json:"connectionStrings"`
		}
		got.Decode(t, &body)
		return body.ConnectionStrings
	}
	str := func(p *string) string {
		if p == nil {
			return "(none)"
		}
		return *p
	}
	for _, name := range []string{"replicas", "srv", "unbound"} {
		if cs := get(name, v20240805); cs.Standard != nil || cs.StandardSrv != nil {
			t.Errorf("%s while CREATING: standard %s, standardSrv %s; want none", name, str(cs.Standard), str(cs.StandardSrv))
		}
	}
	clock.Advance(time.Minute)
	for _, accept := range []string{v20240805, v20230201, v20230101} {
		for _, tc := range []struct{ name, standard, standardSrv string }{
			{"replicas", "mongodb://db0.example.com:27017,db1.example.com:27017/?replicaSet=rs0&tls=true&authMechanism=MONGODB-AWS", "(none)"},
			{"srv", "mongodb+srv://cluster0.example.net/?authSource=admin", "mongodb+srv://cluster0.example.net/?authSource=admin"},
			{"unbound", "(none)", "(none)"},
		} {
			cs := get(tc.name, accept)
			if str(cs.Standard) != tc.standard || str(cs.StandardSrv) != tc.standardSrv {
				t.Errorf("%s (%s): standard %s, standardSrv %s; want %s, %s", tc.name, accept, str(cs.Standard), str(cs.StandardSrv), tc.standard, tc.standardSrv)
			}
		}
	}
}
