package service_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/service"
)

const (
	boundPassword   = "pa55:w/rd-S3cret"
	boundURI        = "mongodb://backup:pa55%3Aw%2Frd-S3cret@db0.example.com:27017,db1.example.com:27018/admin?replicaSet=rs0&tls=true&authMechanismProperties=AWS_SESSION_TOKEN:t0ken-S3cret"
	boundPublicURI  = "mongodb://db0.example.com:27017,db1.example.com:27018/admin?replicaSet=rs0&tls=true"
	boundTokenValue = "t0ken-S3cret"
)

func keyed(t *testing.T) *service.Service {
	t.Helper()
	svc, _, _ := newService(t, nil)
	key, _ := service.NewRandomSecretKey()
	if err := svc.UseSecretKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestSealOpen(t *testing.T) {
	key, _ := service.NewRandomSecretKey()
	sealed := key.Seal("cluster-a", []byte(boundURI))
	if bytes.Contains(sealed, []byte(boundPassword)) || bytes.Contains(sealed, []byte("pa55")) {
		t.Fatalf("sealed value shows the password: %q", sealed)
	}
	if again := key.Seal("cluster-a", []byte(boundURI)); bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if got, err := key.Open("cluster-a", sealed); err != nil || string(got) != boundURI {
		t.Errorf("Open = %q, %v; want the URI back", got, err)
	}
	if _, err := key.Open("cluster-b", sealed); err == nil {
		t.Error("a value sealed for cluster-a opens for cluster-b")
	}
	other, _ := service.NewRandomSecretKey()
	if _, err := other.Open("cluster-a", sealed); err == nil {
		t.Error("a value sealed with one key opens with another")
	}
	changed := slices.Clone(sealed)
	changed[len(changed)-1] ^= 1
	if _, err := key.Open("cluster-a", changed); err == nil {
		t.Error("a changed sealed value opens")
	}
	if _, err := service.NewSecretKey(make([]byte, 16)); err == nil || !strings.Contains(err.Error(), "16 bytes long, want 32") {
		t.Errorf("NewSecretKey(16 bytes) = %v, want an error naming the length", err)
	}
}

func TestUseSecretKey(t *testing.T) {
	ctx := context.Background()
	svc, project, _ := newService(t, nil)
	first, _ := service.NewRandomSecretKey()
	// The first key given to a database (here, initialized without one)
	// becomes its key.
	for range 2 {
		if err := svc.UseSecretKey(ctx, first); err != nil {
			t.Fatalf("the database's key: %v", err)
		}
	}
	c, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: project, Name: "bound", Deployment: &service.DeploymentInput{URI: boundURI}})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := service.NewRandomSecretKey()
	if err := svc.UseSecretKey(ctx, other); !errors.Is(err, service.ErrSecretKeyMismatch) ||
		err.Error() != "the secret key does not match the one this database was initialized with" {
		t.Errorf("another key: %v, want ErrSecretKeyMismatch", err)
	}
	// The key refused is not used: what the first sealed still opens.
	if uri, err := svc.DeploymentURI(c); err != nil || uri != boundURI {
		t.Errorf("DeploymentURI after another key was refused = %q, %v; want the URI given", uri, err)
	}
	// A service given only a refused key has none.
	again := &service.Service{Store: svc.Store, Identities: service.DefaultIdentities}
	if err := again.UseSecretKey(ctx, other); !errors.Is(err, service.ErrSecretKeyMismatch) {
		t.Errorf("another key, another service: %v, want ErrSecretKeyMismatch", err)
	}
	if _, err := again.DeploymentURI(c); !errors.Is(err, service.ErrNoSecretKey) {
		t.Errorf("DeploymentURI of a service whose key was refused: %v, want ErrNoSecretKey", err)
	}
}

func TestBindCluster(t *testing.T) {
	ctx := context.Background()
	svc := keyed(t)
	orgs, _ := svc.Organizations(ctx)
	projects, _ := svc.OrgProjects(ctx, orgs[0].ID)
	project := projects[0].ID
	c, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: project, Name: "bound", Deployment: &service.DeploymentInput{URI: boundURI}})
	if err != nil {
		t.Fatal(err)
	}
	d := c.Deployment
	if d == nil || d.PublicURI != boundPublicURI || !slices.Equal(d.Hosts, []string{"db0.example.com:27017", "db1.example.com:27018"}) ||
		d.Consistency != snapexport.ConsistencyPointInTime {
		t.Fatalf("deployment %+v, want the public URI, both hosts and pointInTime", d)
	}
	stored, err := svc.Cluster(ctx, project, "bound")
	if err != nil {
		t.Fatal(err)
	}
	if uri, err := svc.DeploymentURI(stored); err != nil || uri != boundURI {
		t.Errorf("DeploymentURI = %q, %v; want the URI given", uri, err)
	}

	// A sealed value moved to another cluster does not open there.
	other, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: project, Name: "other",
		Deployment: &service.DeploymentInput{URI: "mongodb://db2.example.com", Consistency: snapexport.ConsistencyNone}})
	if err != nil {
		t.Fatal(err)
	}
	other.Deployment.SealedURI = stored.Deployment.SealedURI
	if _, err := svc.DeploymentURI(other); err == nil || strings.Contains(err.Error(), "pa55") {
		t.Errorf("DeploymentURI of a value moved from another cluster: %v, want a refusal", err)
	}

	// Rebinding replaces the deployment; nil unbinds.
	c, err = svc.BindCluster(ctx, project, "bound", &service.DeploymentInput{URI: "mongodb+srv://user:" + boundPassword[:4] + "@cluster0.example.net/?authSource=admin",
		Consistency: snapexport.ConsistencyNone})
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Deployment; d.PublicURI != "mongodb+srv://cluster0.example.net/?authSource=admin" || !slices.Equal(d.Hosts, []string{"cluster0.example.net"}) ||
		d.Consistency != snapexport.ConsistencyNone {
		t.Errorf("rebound deployment %+v", d)
	}
	if c, err = svc.BindCluster(ctx, project, "bound", nil); err != nil || c.Deployment != nil {
		t.Fatalf("unbind: %+v, %v", c, err)
	}
	if stored, _ := svc.Cluster(ctx, project, "bound"); stored.Deployment != nil {
		t.Errorf("unbound cluster keeps %+v", stored.Deployment)
	}

	_, err = svc.BindCluster(ctx, project, "bound", &service.DeploymentInput{URI: "mongodb://db", Consistency: "snapshot"})
	if err == nil || !strings.Contains(err.Error(), "consistency snapshot is not one of none and pointInTime") {
		t.Errorf("bad consistency: %v", err)
	}
	keyless := &service.Service{Store: svc.Store, Identities: service.DefaultIdentities}
	if _, err := keyless.BindCluster(ctx, project, "bound", &service.DeploymentInput{URI: "mongodb://db"}); !errors.Is(err, service.ErrNoSecretKey) {
		t.Errorf("binding without a key: %v, want ErrNoSecretKey", err)
	}
}

func TestParseMongoDBURI(t *testing.T) {
	for _, tc := range []struct{ uri, public string }{
		{"mongodb://localhost", "mongodb://localhost"},
		{"mongodb://u:p@localhost:27017/", "mongodb://localhost:27017"},
		{"mongodb://u:p@h1,h2:27018/db?replicaSet=rs0&readPreference=secondary", "mongodb://h1,h2:27018/db?replicaSet=rs0&readPreference=secondary"},
		{"mongodb+srv://u:p@cluster0.example.net/?retryWrites=true&w=majority", "mongodb+srv://cluster0.example.net/?retryWrites=true&w=majority"},
		{"mongodb://h/?tls=true&tlsCAFile=/etc/ca.pem&tlsCertificateKeyFile=/etc/me.pem&tlsCertificateKeyFilePassword=k3y-S3cret",
			"mongodb://h/?tls=true&tlsCAFile=/etc/ca.pem&tlsCertificateKeyFile=/etc/me.pem"},
		{"mongodb://AKIA:s3cret@h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:abc", "mongodb://h/?authMechanism=MONGODB-AWS"},
		{"mongodb://CN=me@h/?authMechanism=MONGODB-X509&tls=true", "mongodb://h/?authMechanism=MONGODB-X509&tls=true"},
	} {
		got, err := service.ParseMongoDBURI(tc.uri)
		if err != nil {
			t.Errorf("ParseMongoDBURI(%q): %v", tc.uri, err)
			continue
		}
		if got.Public != tc.public {
			t.Errorf("ParseMongoDBURI(%q).Public = %q, want %q", tc.uri, got.Public, tc.public)
		}
	}
	for _, tc := range []struct{ uri, want string }{
		{"postgres://u:" + boundPassword + "@h/db", `scheme must be "mongodb" or "mongodb+srv"`},
		{"mongodb://u:pa55:w0rd@h/", "the password must be URL-encoded"},
		{"mongodb://u:pa55%zzS3cret@h/", "the password must be URL-encoded"},
		{"mongodb://u:pa55S3cret@h/?replicaSet=rs0&directConnection=true&tls=true&ssl=false", "tls"},
		{"mongodb://u:pa55S3cret@h/?authMechanism=GSSAPI-NOPE", "invalid auth mechanism"},
		{"mongodb://u:pa55S3cret@h/?tlsCertificateKeyFilePassword=k3y%zzS3cret&tls=true", "invalid"},
		{"mongodb://u:pa55S3cret@h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN", "invalid authMechanism property"},
		{"mongodb+srv://u:pa55S3cret@h1,h2/", "one host, without a port"},
		{"mongodb+srv://u:pa55S3cret@h:27017/", "one host, without a port"},
		{"mongodb://u:pa55S3cret@/", "host"},
	} {
		_, err := service.ParseMongoDBURI(tc.uri)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseMongoDBURI(%q) = %v, want an error with %q", tc.uri, err, tc.want)
			continue
		}
		for _, secret := range []string{"pa55", "S3cret", "zzS"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("ParseMongoDBURI(%q) error shows a secret: %v", tc.uri, err)
			}
		}
		if !strings.HasPrefix(err.Error(), "the MongoDB connection string is invalid: ") {
			t.Errorf("ParseMongoDBURI(%q) error %q does not say what is invalid", tc.uri, err)
		}
	}
}

// TestDeleteClusterForgetsItsDeployment: a deleted cluster keeps no
// sealed credentials; a retained snapshot's cluster, read back, is bound
// to nothing.
func TestDeleteClusterForgetsItsDeployment(t *testing.T) {
	ctx := context.Background()
	svc := keyed(t)
	orgs, _ := svc.Organizations(ctx)
	projects, _ := svc.OrgProjects(ctx, orgs[0].ID)
	project := projects[0].ID
	if _, err := svc.CreateCluster(ctx, service.ClusterInput{ProjectID: project, Name: "bound", Deployment: &service.DeploymentInput{URI: boundURI}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteCluster(ctx, project, "bound", true); err != nil {
		t.Fatal(err)
	}
	removed, err := snapexport.ReadValue(ctx, svc.Store, func(tx snapexport.Tx) (*snapexport.Cluster, error) {
		return tx.RemovedCluster(ctx, project, "bound")
	})
	if err != nil {
		t.Fatal(err)
	}
	if removed.Deployment != nil {
		t.Errorf("the deleted cluster keeps its deployment %+v", removed.Deployment)
	}
}
