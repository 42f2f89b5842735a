package objectstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/objectstore"
)

func TestValidateNamesTheBadField(t *testing.T) {
	ok := objectstore.Config{LocalDir: "/data/objectstore"}
	cases := []struct {
		field string
		edit  func(*objectstore.Config)
	}{
		{"LocalDir", func(c *objectstore.Config) { c.LocalDir = "" }},
		{"AWS.Mode", func(c *objectstore.Config) { c.AWS.Mode = "s4" }},
		{"AWS.Endpoint", func(c *objectstore.Config) { c.AWS.Mode = objectstore.ModeS3Compatible }},
		{"AWS.Endpoint", func(c *objectstore.Config) {
			c.AWS = objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: "ftp://x", AccessKeyID: "a", SecretAccessKey: "b"}
		}},
		{"AWS.Endpoint", func(c *objectstore.Config) { c.AWS.Endpoint = "http://127.0.0.1:9000" }},
		{"AWS.Endpoint", func(c *objectstore.Config) {
			c.AWS = objectstore.AWSConfig{Mode: objectstore.ModeCloud, Endpoint: "http://127.0.0.1:9000"}
		}},
		{"AWS.AccessKeyID", func(c *objectstore.Config) {
			c.AWS = objectstore.AWSConfig{Mode: objectstore.ModeS3Compatible, Endpoint: "http://127.0.0.1:9000"}
		}},
		{"AWS.SecretAccessKey", func(c *objectstore.Config) { c.AWS.AccessKeyID = "a" }},
		{"AWS.STSEndpoint", func(c *objectstore.Config) { c.AWS.STSEndpoint = "http://127.0.0.1:1" }},
		{"AWS.SessionDuration", func(c *objectstore.Config) { c.AWS.Mode = objectstore.ModeCloud; c.AWS.SessionDuration = time.Minute }},
		{"AWS.DefaultRegion", func(c *objectstore.Config) { c.AWS.DefaultRegion = "US East" }},
		{"Azure.AccountName", func(c *objectstore.Config) {
			c.Azure = objectstore.AzureConfig{Mode: objectstore.ModeAzureCompatible, Endpoint: "http://127.0.0.1:10000/devstoreaccount1"}
		}},
		{"Azure.AccountKey", func(c *objectstore.Config) {
			c.Azure = objectstore.AzureConfig{Mode: objectstore.ModeAzureCompatible, Endpoint: "http://127.0.0.1:10000/x", AccountName: "x"}
		}},
		{"Azure.ClientID", func(c *objectstore.Config) {
			c.Azure = objectstore.AzureConfig{Mode: objectstore.ModeCloud, ClientSecret: "s"}
		}},
		{"Azure.Endpoint", func(c *objectstore.Config) {
			c.Azure = objectstore.AzureConfig{Mode: objectstore.ModeAzureCompatible, Endpoint: "http://user:pw@h/x", AccountName: "x", AccountKey: "k"}
		}},
		{"GCP.Mode", func(c *objectstore.Config) { c.GCP.Mode = "gcs" }},
		{"GCP.Endpoint", func(c *objectstore.Config) { c.GCP.Mode = objectstore.ModeGCSCompatible }},
		{"GCP.IAMCredentialsEndpoint", func(c *objectstore.Config) { c.GCP.IAMCredentialsEndpoint = "http://127.0.0.1:1" }},
		{"Timeout", func(c *objectstore.Config) { c.Timeout = -time.Second }},
		{"Retry.MaxAttempts", func(c *objectstore.Config) { c.Retry.MaxAttempts = -1 }},
		{"Retry.MaxDelay", func(c *objectstore.Config) {
			c.Retry = objectstore.RetryPolicy{BaseDelay: time.Second, MaxDelay: time.Millisecond}
		}},
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		cfg := ok
		c.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field+":") {
			t.Errorf("%s: %v", c.field, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("error shows URL credentials: %v", err)
		}
		if _, err := objectstore.New(cfg); err == nil {
			t.Errorf("%s: New accepted the config", c.field)
		}
	}
}
