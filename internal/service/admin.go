package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/snapexport/snapexport"
)

// PrincipalRef names an API key by public key or a service account by
// client id, the way an operator knows them.
type PrincipalRef struct {
	PublicKey string
	ClientID  string
}

func (r PrincipalRef) String() string {
	if r.PublicKey != "" {
		return "API key " + r.PublicKey
	}
	return "service account " + r.ClientID
}

// resolve finds the principal's id and organization.
func (r PrincipalRef) resolve(ctx context.Context, tx snapexport.Tx) (id, orgID string, err error) {
	switch {
	case r.PublicKey != "" && r.ClientID != "":
		return "", "", errors.New("name either an API key or a service account, not both")
	case r.PublicKey != "":
		k, err := tx.APIKeyByPublicKey(ctx, r.PublicKey)
		if err != nil {
			return "", "", notFoundAs(err, "no API key with public key %s", r.PublicKey)
		}
		return k.ID, k.OrgID, nil
	case r.ClientID != "":
		sa, err := tx.ServiceAccountByClientID(ctx, r.ClientID)
		if err != nil {
			return "", "", notFoundAs(err, "no service account with client id %s", r.ClientID)
		}
		return sa.ID, sa.OrgID, nil
	}
	return "", "", errors.New("name an API key (public key) or a service account (client id)")
}

// AssignRole gives a principal a role on its organization (projectID
// empty) or on one of its organization's projects.
func (s *Service) AssignRole(ctx context.Context, who PrincipalRef, projectID string, role snapexport.Role) error {
	defer s.identityChanged()
	return s.Store.Write(ctx, func(tx snapexport.Tx) error {
		ra, err := roleAssignment(ctx, tx, who, projectID, role)
		if err != nil {
			return err
		}
		return tx.AssignRole(ctx, ra)
	})
}

// UnassignRole takes a role away.
func (s *Service) UnassignRole(ctx context.Context, who PrincipalRef, projectID string, role snapexport.Role) error {
	defer s.identityChanged()
	return s.Store.Write(ctx, func(tx snapexport.Tx) error {
		ra, err := roleAssignment(ctx, tx, who, projectID, role)
		if err != nil {
			return err
		}
		err = tx.UnassignRole(ctx, ra)
		if errors.Is(err, snapexport.ErrNotFound) {
			return fmt.Errorf("%s does not hold %s there", who, role)
		}
		return err
	})
}

func roleAssignment(ctx context.Context, tx snapexport.Tx, who PrincipalRef, projectID string, role snapexport.Role) (snapexport.RoleAssignment, error) {
	id, orgID, err := who.resolve(ctx, tx)
	if err != nil {
		return snapexport.RoleAssignment{}, err
	}
	ra := snapexport.RoleAssignment{PrincipalID: id, OrgID: orgID, ProjectID: projectID, Role: role}
	if projectID == "" {
		if !snapexport.ValidOrgRole(role) {
			return ra, fmt.Errorf("role %s cannot be assigned on an organization; organization roles: %v", role, snapexport.OrgRoles)
		}
		return ra, nil
	}
	if !snapexport.ValidProjectRole(role) {
		return ra, fmt.Errorf("role %s cannot be assigned on a project; project roles: %v", role, snapexport.ProjectRoles)
	}
	p, err := tx.Project(ctx, projectID)
	if err != nil {
		return ra, notFoundAs(err, "no project with id %s", projectID)
	}
	if p.OrgID != orgID {
		return ra, fmt.Errorf("project %s belongs to organization %s, not to %s's organization %s", projectID, p.OrgID, who, orgID)
	}
	return ra, nil
}

// Roles lists the roles of a principal.
func (s *Service) Roles(ctx context.Context, who PrincipalRef) ([]snapexport.RoleAssignment, error) {
	var out []snapexport.RoleAssignment
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		id, _, err := who.resolve(ctx, tx)
		if err != nil {
			return err
		}
		out, err = tx.ListRoles(ctx, id)
		return err
	})
	return out, err
}

// Organizations lists every organization.
func (s *Service) Organizations(ctx context.Context) ([]*snapexport.Organization, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) ([]*snapexport.Organization, error) {
		return tx.ListOrganizations(ctx)
	})
}

// OrgProjects lists an organization's projects.
func (s *Service) OrgProjects(ctx context.Context, orgID string) ([]*snapexport.Project, error) {
	var out []*snapexport.Project
	err := s.Store.Read(ctx, func(tx snapexport.Tx) error {
		if _, err := tx.Organization(ctx, orgID); err != nil {
			return notFoundAs(err, "no organization with id %s", orgID)
		}
		var err error
		out, _, err = tx.ListProjects(ctx, []string{orgID}, nil, snapexport.Page{})
		return err
	})
	return out, err
}

// APIKeys lists an organization's API keys (without secrets).
func (s *Service) APIKeys(ctx context.Context, orgID string) ([]*snapexport.APIKey, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) ([]*snapexport.APIKey, error) {
		return tx.ListAPIKeys(ctx, orgID)
	})
}

// ServiceAccounts lists an organization's service accounts (without secrets).
func (s *Service) ServiceAccounts(ctx context.Context, orgID string) ([]*snapexport.ServiceAccount, error) {
	return snapexport.ReadValue(ctx, s.Store, func(tx snapexport.Tx) ([]*snapexport.ServiceAccount, error) {
		return tx.ListServiceAccounts(ctx, orgID)
	})
}

// DeletePrincipal deletes an API key or a service account with its roles
// (and a service account's tokens).
func (s *Service) DeletePrincipal(ctx context.Context, who PrincipalRef) error {
	defer s.identityChanged()
	return s.Store.Write(ctx, func(tx snapexport.Tx) error {
		id, _, err := who.resolve(ctx, tx)
		if err != nil {
			return err
		}
		if who.PublicKey != "" {
			return tx.DeleteAPIKey(ctx, id)
		}
		return tx.DeleteServiceAccount(ctx, id)
	})
}
