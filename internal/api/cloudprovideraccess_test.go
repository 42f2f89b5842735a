package api_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/snapexport/snapexport/internal/apitest"
)

// TestUnauthorizedAWSRoleNulls: an AWS role not yet authorized shows
// authorizedDate and iamAssumedRoleArn as null, in Atlas's field order;
// once authorized, both hold values.
func TestUnauthorizedAWSRoleNulls(t *testing.T) {
	e := newEnv(t)
	created := e.Do(t, apitest.Request{Method: "POST", Path: e.rolesPath(), Accept: v20230101, Body: `{"providerName":"AWS"}`})
	apitest.WantStatus(t, created, http.StatusOK)
	wantKeys := []string{"atlasAWSAccountArn", "atlasAssumedRoleExternalId", "authorizedDate", "createdDate", "featureUsages", "iamAssumedRoleArn", "providerName", "roleId"}
	for name, got := range map[string]*apitest.Response{
		"create": created,
		"get":    e.Do(t, apitest.Request{Path: e.rolesPath() + "/" + created.Field(t, "roleId"), Accept: v20230101}),
	} {
		if keys := apitest.TopKeys(t, got.Body); !reflect.DeepEqual(keys, wantKeys) {
			t.Errorf("%s: fields %v, want %v", name, keys, wantKeys)
		}
		o := got.Object(t)
		if o["authorizedDate"] != nil || o["iamAssumedRoleArn"] != nil {
			t.Errorf("%s: unauthorized role %s, want null authorizedDate and iamAssumedRoleArn", name, got.Body)
		}
	}
	authorized := e.role(t, "AWS", true)
	got := e.Do(t, apitest.Request{Path: e.rolesPath() + "/" + authorized, Accept: v20230101})
	if o := got.Object(t); o["authorizedDate"] == nil || o["iamAssumedRoleArn"] == nil {
		t.Errorf("authorized role: %s", got.Body)
	}
}
