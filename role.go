package snapexport

import "slices"

// Role is an Atlas role name as the API spells it.
type Role string

const (
	RoleOrgOwner                  Role = "ORG_OWNER"
	RoleOrgMember                 Role = "ORG_MEMBER"
	RoleGroupOwner                Role = "GROUP_OWNER"
	RoleGroupReadOnly             Role = "GROUP_READ_ONLY"
	RoleGroupBackupManager        Role = "GROUP_BACKUP_MANAGER"
	RoleGroupBackupCreator        Role = "GROUP_BACKUP_CREATOR"
	RoleGroupBackupExportOperator Role = "GROUP_BACKUP_EXPORT_OPERATOR"
	RoleGroupClusterManager       Role = "GROUP_CLUSTER_MANAGER"
)

// OrgRoles and ProjectRoles are the roles that can be assigned at each scope.
var (
	OrgRoles     = []Role{RoleOrgOwner, RoleOrgMember}
	ProjectRoles = []Role{RoleGroupOwner, RoleGroupClusterManager, RoleGroupBackupManager, RoleGroupBackupCreator, RoleGroupBackupExportOperator, RoleGroupReadOnly}
)

// includes lists, for each project role, the project roles whose rights it
// also grants (Atlas's role inclusion, docs "Atlas User Roles").
var includes = map[Role][]Role{
	RoleGroupOwner:                {RoleGroupClusterManager, RoleGroupBackupManager, RoleGroupBackupCreator, RoleGroupBackupExportOperator, RoleGroupReadOnly},
	RoleGroupClusterManager:       {RoleGroupReadOnly},
	RoleGroupBackupManager:        {RoleGroupBackupCreator, RoleGroupBackupExportOperator, RoleGroupReadOnly},
	RoleGroupBackupCreator:        {RoleGroupReadOnly},
	RoleGroupBackupExportOperator: {RoleGroupReadOnly},
}

// Grants reports whether holding r on a project satisfies an operation that
// requires need on that project.
func (r Role) Grants(need Role) bool {
	return r == need || slices.Contains(includes[r], need)
}

// ValidProjectRole and ValidOrgRole report whether r may be assigned at that scope.
func ValidProjectRole(r Role) bool { return slices.Contains(ProjectRoles, r) }
func ValidOrgRole(r Role) bool     { return slices.Contains(OrgRoles, r) }

// CanAccessProject reports whether p holds, on project (of organization
// orgID), a role that grants need. ORG_OWNER grants GROUP_OWNER on every
// project of its organization.
func (p *Principal) CanAccessProject(orgID, projectID string, need Role) bool {
	for _, ra := range p.Roles {
		switch {
		case ra.ProjectID == "" && ra.OrgID == orgID && ra.Role == RoleOrgOwner:
			return true
		case ra.ProjectID == projectID && ra.Role.Grants(need):
			return true
		}
	}
	return false
}

// InProject reports whether p holds any role on the project, directly or
// through its organization.
func (p *Principal) InProject(orgID, projectID string) bool {
	return p.CanAccessProject(orgID, projectID, RoleGroupReadOnly)
}

// IsOrgOwner reports whether p owns organization orgID.
func (p *Principal) IsOrgOwner(orgID string) bool {
	for _, ra := range p.Roles {
		if ra.ProjectID == "" && ra.OrgID == orgID && ra.Role == RoleOrgOwner {
			return true
		}
	}
	return false
}
