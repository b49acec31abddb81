package rest

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/clientiq/clientiq/internal/apperr"
	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/member"
)

// The member, role and invitation handlers call the member.Service methods
// the GraphQL resolvers call; the service checks the viewer's permissions
// (members.read, members.manage, roles.manage, members.invite) itself.

func memberResource(m *member.Member) Resource {
	return Resource{ID: m.ID.String(), Type: "member", Attributes: map[string]any{
		"email": m.Email, "name": m.Name, "status": m.Status, "roles": nonNilStrings(m.Roles),
		"joined_at": optTimestamp(m.JoinedAt), "created_at": timestamp(m.CreatedAt),
	}, Relationships: map[string]any{"user": idRef("user", &m.UserID)}}
}

func invitationResource(inv *member.Invitation) Resource {
	var by *uuid.UUID
	if inv.InvitedBy != uuid.Nil {
		by = &inv.InvitedBy
	}
	return Resource{ID: inv.ID.String(), Type: "invitation", Attributes: map[string]any{
		"email": inv.Email, "role": inv.Role, "status": inv.Status, "created_at": timestamp(inv.CreatedAt),
		"expires_at": timestamp(inv.ExpiresAt), "accepted_at": optTimestamp(inv.AcceptedAt), "revoked_at": optTimestamp(inv.RevokedAt),
	}, Relationships: map[string]any{"invited_by": idRef("user", by)}}
}

// memberMeta is the client's address and agent for the audit log, as the
// GraphQL resolvers pass it.
func memberMeta(r *http.Request) member.Meta {
	m := auth.MetaFrom(r.Context())
	return member.Meta{IP: m.IP, UserAgent: m.UserAgent}
}

// --- users (tenant members) ---

func (h *handlers) listMembers(w http.ResponseWriter, r *http.Request) {
	ms, err := h.members.ListMembers(r.Context())
	writeAll(h, w, r, ms, err, func(m member.Member) Resource { return memberResource(&m) })
}

func (h *handlers) getMember(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	m, err := h.members.GetMember(r.Context(), id)
	respond(h, w, r, http.StatusOK, m, err, memberResource)
}

// memberBody is what PATCH /users/{id} may change; anything else (email,
// name, user_id) is refused by decode.
type memberBody struct {
	Roles  *[]string `json:"roles"`
	Status *string   `json:"status"`
}

// updateMember applies roles, then status, each through its own service
// call (the GraphQL mutations setMemberRoles and setMemberStatus).
func (h *handlers) updateMember(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	var b memberBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	if b.Roles == nil && b.Status == nil {
		WriteError(w, r, h.logger, apperr.Validation("nothing to update", map[string][]string{"body": {"must set roles or status"}}))
		return
	}
	var m *member.Member
	if b.Roles != nil {
		if m, err = h.members.SetMemberRoles(r.Context(), id, *b.Roles, memberMeta(r)); err != nil {
			WriteError(w, r, h.logger, err)
			return
		}
	}
	if b.Status != nil {
		m, err = h.members.SetMemberStatus(r.Context(), id, *b.Status, memberMeta(r))
	}
	respond(h, w, r, http.StatusOK, m, err, memberResource)
}

func (h *handlers) removeMember(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	if err := h.members.RemoveMember(r.Context(), id, memberMeta(r)); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- invitations ---

func (h *handlers) listInvitations(w http.ResponseWriter, r *http.Request) {
	is, err := h.members.ListInvitations(r.Context())
	writeAll(h, w, r, is, err, func(inv member.Invitation) Resource { return invitationResource(&inv) })
}

type invitationBody struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

func (h *handlers) invite(w http.ResponseWriter, r *http.Request) {
	var b invitationBody
	if err := decode(r, &b); err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	inv, err := h.members.Invite(r.Context(), b.Email, b.Role, memberMeta(r))
	respond(h, w, r, http.StatusCreated, inv, err, invitationResource)
}

func (h *handlers) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	inv, err := h.members.RevokeInvitation(r.Context(), id, memberMeta(r))
	respond(h, w, r, http.StatusOK, inv, err, invitationResource)
}

// writeAll answers a whole list as one page: the member and tenant
// services return plain lists, so there is never a next cursor.
func writeAll[T any](h *handlers, w http.ResponseWriter, r *http.Request, items []T, err error, render func(T) Resource) {
	if err != nil {
		WriteError(w, r, h.logger, err)
		return
	}
	data := make([]Resource, 0, len(items))
	for _, it := range items {
		data = append(data, render(it))
	}
	WriteData(w, r, http.StatusOK, data, &Pagination{Limit: len(data)})
}

// optTimestamp is timestamp for an optional time (nil stays null).
func optTimestamp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return timestamp(*t)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
