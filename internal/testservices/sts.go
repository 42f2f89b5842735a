package testservices

import (
	"testing"
	"time"

	"github.com/snapexport/snapexport/internal/fakests"
)

// STSRole is a role the fake STS lets callers assume: its ARN and the
// external id callers must present ("" for none).
type STSRole struct {
	ARN        string
	ExternalID string
}

// STS starts the fake AWS STS endpoint of package fakests, knowing roles.
// It stops when the test ends. Use its AddRole, AllowCaller, SetLifetime,
// Calls and Lookup to set it up and inspect it.
func STS(t testing.TB, roles ...STSRole) *fakests.Server {
	t.Helper()
	s := fakests.New()
	t.Cleanup(s.Close)
	for _, r := range roles {
		s.AddRole(r.ARN, r.ExternalID)
	}
	return s
}

// IssuedBy returns an S3Server authorizer accepting only requests signed
// with temporary credentials sts issued, carrying their session token,
// before they expire: anything else gets the error S3 answers (403
// InvalidAccessKeyId, 400 InvalidToken or 400 ExpiredToken).
func IssuedBy(sts *fakests.Server) func(Request) Verdict {
	return func(r Request) Verdict {
		creds, ok := sts.Lookup(r.AccessKeyID)
		switch {
		case !ok:
			return S3Error(403, "InvalidAccessKeyId")
		case r.SecurityToken != creds.SessionToken:
			return S3Error(400, "InvalidToken")
		case !time.Now().Before(creds.Expiration):
			return S3Error(400, "ExpiredToken")
		}
		return Verdict{}
	}
}
