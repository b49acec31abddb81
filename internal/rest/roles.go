package rest

import (
	"net/http"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/member"
)

func roleResource(ro *member.Role) Resource {
	return Resource{ID: ro.ID.String(), Type: "role", Attributes: map[string]any{
		"name": ro.Name, "description": ro.Description, "permissions": nonNilStrings(ro.Permissions),
		"builtin": ro.Builtin, "member_count": ro.MemberCount,
		"created_at": timestamp(ro.CreatedAt), "updated_at": timestamp(ro.UpdatedAt),
	}, Relationships: map[string]any{}}
}

func (h *handlers) listRoles(w http.ResponseWriter, r *http.Request) {
	rs, err := h.members.ListRoles(r.Context())
	writeAll(h, w, r, rs, err, func(ro member.Role) Resource { return roleResource(&ro) })
}

func (h *handlers) getRole(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	ro, err := h.members.GetRole(r.Context(), id)
	respond(h, w, r, http.StatusOK, ro, err, roleResource)
}

type roleBody struct {
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Permissions *[]string `json:"permissions"`
}

func (h *handlers) createRole(w http.ResponseWriter, r *http.Request) {
	var b roleBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	ro, err := h.members.CreateRole(r.Context(), deref(b.Name), deref(b.Description), deref(b.Permissions), memberMeta(r))
	respond(h, w, r, http.StatusCreated, ro, err, roleResource)
}

// updateRole serves PATCH (partial) and PUT (name and permissions
// required: the whole writable representation; description defaults to
// empty).
func (h *handlers) updateRole(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	var b roleBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	if r.Method == http.MethodPut {
		fe := apperr.FieldErrors{}
		if b.Name == nil {
			fe.Add("name", "is required (PUT replaces the role; use PATCH to change some fields)")
		}
		if b.Permissions == nil {
			fe.Add("permissions", "is required (PUT replaces the role; use PATCH to change some fields)")
		}
		if err := fe.Err(); err != nil {
			WriteError(w, r, h.logger, err)
			return
		}
		if b.Description == nil {
			empty := ""
			b.Description = &empty
		}
	}
	ro, err := h.members.UpdateRole(r.Context(), id, member.RoleUpdate{Name: b.Name, Description: b.Description, Permissions: b.Permissions}, memberMeta(r))
	respond(h, w, r, http.StatusOK, ro, err, roleResource)
}

func (h *handlers) deleteRole(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	if err := h.members.DeleteRole(r.Context(), id, memberMeta(r)); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
