package snapexport

import "time"

// Organization owns projects, API keys and service accounts.
type Organization struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Project is an Atlas project, called a "group" in API paths.
type Project struct {
	ID        string
	OrgID     string
	Name      string
	CreatedAt time.Time
}

// PrincipalKind tells an API key from a service account.
type PrincipalKind string

const (
	PrincipalAPIKey         PrincipalKind = "API_KEY"
	PrincipalServiceAccount PrincipalKind = "SERVICE_ACCOUNT"
)

// APIKey authenticates by HTTP Digest. Only HA1 = MD5(publicKey:realm:privateKey)
// is kept: it is all digest verification needs and it does not reveal the
// private key.
type APIKey struct {
	ID          string
	OrgID       string
	PublicKey   string
	HA1         string
	Description string
	CreatedAt   time.Time
}

// ServiceAccount authenticates by the OAuth 2.0 client-credentials grant.
// SecretHash is a salted, deliberately slow hash of the client secret.
type ServiceAccount struct {
	ID          string
	OrgID       string
	ClientID    string
	SecretHash  string
	Name        string
	Description string
	CreatedAt   time.Time
}

// AccessToken is a bearer token issued to a service account. Only the hash of
// the token is stored.
type AccessToken struct {
	Hash             string
	ServiceAccountID string
	IssuedAt         time.Time
	ExpiresAt        time.Time
	RevokedAt        *time.Time
}

// RoleAssignment grants Role to a principal on an organization (ProjectID
// empty) or on one project.
type RoleAssignment struct {
	PrincipalID string
	OrgID       string
	ProjectID   string
	Role        Role
}

// Principal is an authenticated caller with its role assignments.
type Principal struct {
	ID    string
	Kind  PrincipalKind
	Name  string // public key or client id, for logs
	OrgID string
	Roles []RoleAssignment
}
