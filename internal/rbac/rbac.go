// Package rbac owns ClientIQ's permission catalogue and the built-in roles
// seeded in every tenant. It is pure: no I/O, no context. Enforcement (one
// point, deny by default) lives with the transports and calls Allows.
package rbac

import "slices"

// Permission names one thing a member may do in a tenant.
type Permission string

// The permission catalogue. Names are part of the API: never rename one.
const (
	TenantManage       Permission = "tenant.manage"
	MembersRead        Permission = "members.read"
	MembersInvite      Permission = "members.invite"
	MembersManage      Permission = "members.manage"
	RolesManage        Permission = "roles.manage"
	ProjectsRead       Permission = "projects.read"
	ProjectsWrite      Permission = "projects.write"
	ProjectsDelete     Permission = "projects.delete"
	DataRead           Permission = "data.read"
	DataWrite          Permission = "data.write"
	BillingRead        Permission = "billing.read"
	BillingManage      Permission = "billing.manage"
	AnalyticsRead      Permission = "analytics.read"
	AuditRead          Permission = "audit.read"
	TranslationsManage Permission = "translations.manage"
)

// Info describes a permission for the API's permission list.
type Info struct {
	Name        Permission
	Description string
}

// Catalogue lists every permission with what it allows.
var Catalogue = []Info{
	{TenantManage, "Rename, suspend or delete the tenant and manage its domains"},
	{MembersRead, "See the tenant's members and their roles"},
	{MembersInvite, "Invite people to the tenant"},
	{MembersManage, "Change members' roles, disable or remove members"},
	{RolesManage, "Create, change and delete custom roles"},
	{ProjectsRead, "See projects"},
	{ProjectsWrite, "Create and change projects"},
	{ProjectsDelete, "Delete projects"},
	{DataRead, "See data items"},
	{DataWrite, "Create, change and delete data items"},
	{BillingRead, "See the plan, subscription and invoices"},
	{BillingManage, "Change the plan, payment method and subscription"},
	{AnalyticsRead, "See analytics"},
	{AuditRead, "Read the audit log"},
	{TranslationsManage, "Manage the tenant's translations"},
}

// All returns every permission in catalogue order.
func All() []Permission {
	out := make([]Permission, len(Catalogue))
	for i, c := range Catalogue {
		out[i] = c.Name
	}
	return out
}

// Valid reports whether p is in the catalogue.
func Valid(p Permission) bool {
	return slices.ContainsFunc(Catalogue, func(i Info) bool { return i.Name == p })
}

// Built-in role names.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleViewer = "viewer"
)

// Role is a built-in role's definition.
type Role struct {
	Name        string
	Description string
	Permissions []Permission
}

// Builtin are the roles seeded in every tenant; they cannot be changed or
// deleted. Custom roles are created per tenant from the catalogue.
var Builtin = []Role{
	{RoleOwner, "Full control of the tenant, including its deletion and billing", All()},
	{RoleAdmin, "Manages members, roles, projects and data; cannot delete the tenant or change billing", without(All(), TenantManage, BillingManage)},
	{RoleMember, "Works on projects and data", []Permission{MembersRead, ProjectsRead, ProjectsWrite, DataRead, DataWrite, AnalyticsRead}},
	{RoleViewer, "Reads projects and data", []Permission{ProjectsRead, DataRead}},
}

// BuiltinRole returns the built-in role called name.
func BuiltinRole(name string) (Role, bool) {
	for _, r := range Builtin {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

// IsBuiltin reports whether name is a built-in role.
func IsBuiltin(name string) bool {
	_, ok := BuiltinRole(name)
	return ok
}

// Allows reports whether a holder of granted may do p. Deny by default: an
// empty or unknown permission is never allowed.
func Allows(granted []Permission, p Permission) bool {
	if !Valid(p) {
		return false
	}
	return slices.Contains(granted, p)
}

// Set is a set of permissions, the union of a member's roles.
type Set map[Permission]struct{}

// NewSet returns the union of lists, dropping names not in the catalogue.
func NewSet(lists ...[]Permission) Set {
	s := Set{}
	for _, l := range lists {
		for _, p := range l {
			if Valid(p) {
				s[p] = struct{}{}
			}
		}
	}
	return s
}

// Has reports whether p is in the set.
func (s Set) Has(p Permission) bool {
	_, ok := s[p]
	return ok
}

// List returns the set's permissions in catalogue order.
func (s Set) List() []Permission {
	var out []Permission
	for _, c := range Catalogue {
		if s.Has(c.Name) {
			out = append(out, c.Name)
		}
	}
	return out
}

func without(ps []Permission, drop ...Permission) []Permission {
	return slices.DeleteFunc(ps, func(p Permission) bool { return slices.Contains(drop, p) })
}
