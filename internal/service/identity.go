package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/snapexport/snapexport"
	"github.com/snapexport/snapexport/internal/auth"
)

// Credentials are the secrets of a new API key or service account. They are
// shown once and never stored in clear.
type Credentials struct {
	ID           string `json:"id"`
	PublicKey    string `json:"publicKey,omitempty"`
	PrivateKey   string `json:"privateKey,omitempty"`
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret string `json:"clientSecret,omitempty"`
}

// Bootstrap is what `init` creates: an organization, a project, and an API
// key and a service account that own the organization.
type Bootstrap struct {
	Org            *snapexport.Organization
	Project        *snapexport.Project
	APIKey         Credentials
	ServiceAccount Credentials
}

// ErrAlreadyInitialized is returned by Init on a store that has an organization.
var ErrAlreadyInitialized = errors.New("already initialized")

// Init creates the first organization, project and credentials in one
// transaction; it fails with ErrAlreadyInitialized when the store has any
// organization.
func (s *Service) Init(ctx context.Context, orgName, projectName string, hash auth.HashParams) (*Bootstrap, error) {
	orgID := NewID()
	key, keyCreds := newAPIKey(orgID, "snapexport init", time.Time{})
	sa, saCreds := newServiceAccount(orgID, "snapexport-init", "snapexport init", time.Time{}, hash)
	// The times are taken after the hash of the secret, which takes a while.
	now := s.now()
	key.CreatedAt, sa.CreatedAt = now, now
	b := &Bootstrap{
		Org:     &snapexport.Organization{ID: orgID, Name: orgName, CreatedAt: now},
		Project: &snapexport.Project{ID: NewID(), OrgID: orgID, Name: projectName, CreatedAt: now},
		APIKey:  keyCreds, ServiceAccount: saCreds,
	}
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		orgs, err := tx.ListOrganizations(ctx)
		if err != nil {
			return err
		}
		if len(orgs) > 0 {
			return ErrAlreadyInitialized
		}
		for _, step := range []func() error{
			func() error { return tx.CreateOrganization(ctx, b.Org) },
			func() error { return tx.CreateProject(ctx, b.Project) },
			func() error { return tx.CreateAPIKey(ctx, key) },
			func() error { return tx.CreateServiceAccount(ctx, sa) },
			func() error {
				return tx.AssignRole(ctx, snapexport.RoleAssignment{PrincipalID: key.ID, OrgID: b.Org.ID, Role: snapexport.RoleOrgOwner})
			},
			func() error {
				return tx.AssignRole(ctx, snapexport.RoleAssignment{PrincipalID: sa.ID, OrgID: b.Org.ID, Role: snapexport.RoleOrgOwner})
			},
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

func newAPIKey(orgID, description string, now time.Time) (*snapexport.APIKey, Credentials) {
	pub, priv := auth.NewAPIKeyPair()
	k := &snapexport.APIKey{ID: NewID(), OrgID: orgID, PublicKey: pub, HA1: auth.HA1(pub, priv), Description: description, CreatedAt: now}
	return k, Credentials{ID: k.ID, PublicKey: pub, PrivateKey: priv}
}

func newServiceAccount(orgID, name, description string, now time.Time, hash auth.HashParams) (*snapexport.ServiceAccount, Credentials) {
	id, secret := auth.NewServiceAccountCredentials()
	sa := &snapexport.ServiceAccount{ID: NewID(), OrgID: orgID, ClientID: id, SecretHash: auth.HashSecret(secret, hash),
		Name: name, Description: description, CreatedAt: now}
	return sa, Credentials{ID: sa.ID, ClientID: id, ClientSecret: secret}
}

// CreateOrganization adds an organization.
func (s *Service) CreateOrganization(ctx context.Context, name string) (*snapexport.Organization, error) {
	if name == "" {
		return nil, fmt.Errorf("organization name must not be empty")
	}
	o := &snapexport.Organization{ID: NewID(), Name: name, CreatedAt: s.now()}
	return o, s.Store.Write(ctx, func(tx snapexport.Tx) error { return tx.CreateOrganization(ctx, o) })
}

// CreateAPIKey adds an API key to an organization with the given
// organization roles.
func (s *Service) CreateAPIKey(ctx context.Context, orgID, description string, orgRoles []snapexport.Role) (Credentials, error) {
	key, creds := newAPIKey(orgID, description, s.now())
	err := s.createPrincipal(ctx, orgID, key.ID, orgRoles, func(tx snapexport.Tx) error { return tx.CreateAPIKey(ctx, key) })
	return creds, err
}

// CreateServiceAccount adds a service account to an organization with the
// given organization roles.
func (s *Service) CreateServiceAccount(ctx context.Context, orgID, name, description string, orgRoles []snapexport.Role, hash auth.HashParams) (Credentials, error) {
	sa, creds := newServiceAccount(orgID, name, description, s.now(), hash)
	err := s.createPrincipal(ctx, orgID, sa.ID, orgRoles, func(tx snapexport.Tx) error { return tx.CreateServiceAccount(ctx, sa) })
	return creds, err
}

// createPrincipal stores, by create, an API key or service account of an
// organization that exists, with the given organization roles.
func (s *Service) createPrincipal(ctx context.Context, orgID, principalID string, orgRoles []snapexport.Role, create func(snapexport.Tx) error) error {
	return s.Store.Write(ctx, func(tx snapexport.Tx) error {
		if _, err := tx.Organization(ctx, orgID); err != nil {
			return notFoundAs(err, "organization %s does not exist", orgID)
		}
		if err := create(tx); err != nil {
			return err
		}
		return assignAll(ctx, tx, principalID, orgID, "", orgRoles)
	})
}

func assignAll(ctx context.Context, tx snapexport.Tx, principalID, orgID, projectID string, roles []snapexport.Role) error {
	for _, r := range roles {
		if err := tx.AssignRole(ctx, snapexport.RoleAssignment{PrincipalID: principalID, OrgID: orgID, ProjectID: projectID, Role: r}); err != nil {
			return err
		}
	}
	return nil
}

func notFoundAs(err error, format string, args ...any) error {
	if errors.Is(err, snapexport.ErrNotFound) {
		return fmt.Errorf(format, args...)
	}
	return err
}

// ListProjects lists the projects p can see: every project of the
// organizations it belongs to, and the projects it holds a role on.
func (s *Service) ListProjects(ctx context.Context, p *snapexport.Principal, page snapexport.Page) ([]*snapexport.Project, int, error) {
	var orgIDs, ids []string
	for _, ra := range p.Roles {
		if ra.ProjectID == "" {
			if ra.Role == snapexport.RoleOrgOwner {
				orgIDs = append(orgIDs, ra.OrgID)
			}
		} else {
			ids = append(ids, ra.ProjectID)
		}
	}
	var out []*snapexport.Project
	var total int
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		var err error
		out, total, err = tx.ListProjects(ctx, orgIDs, ids, page)
		return err
	})
	return out, total, err
}

// CreateProject creates a project in orgID. The caller must own the
// organization; an API caller becomes the project's owner as Atlas makes
// the creating API key GROUP_OWNER.
func (s *Service) CreateProject(ctx context.Context, p *snapexport.Principal, orgID, name string) (*snapexport.Project, error) {
	if err := snapexport.ValidateProjectName(name); err != nil {
		return nil, err
	}
	proj := &snapexport.Project{ID: NewID(), OrgID: orgID, Name: name, CreatedAt: s.now()}
	err := s.Store.Write(ctx, func(tx snapexport.Tx) error {
		// Ownership first: a caller must not learn which organizations exist.
		if p != nil && !p.IsOrgOwner(orgID) {
			return snapexport.Errorf(snapexport.CodeUserUnauthorized, "Current user is not authorized to perform this action.")
		}
		if _, err := tx.Organization(ctx, orgID); errors.Is(err, snapexport.ErrNotFound) {
			return snapexport.Errorf(snapexport.CodeOrgNotFound, "No organization with ID %s exists.", orgID)
		} else if err != nil {
			return err
		}
		if _, err := tx.ProjectByName(ctx, orgID, name); err == nil {
			return snapexport.Errorf(snapexport.CodeDuplicateGroupName, "A group with name \"%s\" already exists.", name)
		} else if !errors.Is(err, snapexport.ErrNotFound) {
			return err
		}
		if err := tx.CreateProject(ctx, proj); err != nil {
			return err
		}
		if p == nil {
			return nil
		}
		return tx.AssignRole(ctx, snapexport.RoleAssignment{PrincipalID: p.ID, OrgID: orgID, ProjectID: proj.ID, Role: snapexport.RoleGroupOwner})
	})
	if err != nil {
		return nil, err
	}
	return proj, nil
}
