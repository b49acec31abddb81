package rest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/ent"
	entproject "github.com/clientiq/clientiq/ent/project"
)

// TestProjectDocIsTheSameJSONAsAResourceOfMaps: the typed project document
// writes byte for byte what the Resource of maps it replaced wrote.
func TestProjectDocIsTheSameJSONAsAResourceOfMaps(t *testing.T) {
	t.Parallel()
	owner := uuid.New()
	created := time.Date(2026, 11, 27, 9, 30, 1, 123456789, time.FixedZone("CET", 3600))
	for _, p := range []*ent.Project{
		{ID: uuid.New(), Name: "Plain", Status: entproject.StatusActive, CreatedAt: created, UpdatedAt: created.Add(time.Hour)},
		{ID: uuid.New(), Name: `"Quoted" <b>&</b> ünïcode`, Description: "line\nbreak", Status: entproject.StatusArchived,
			OwnerID: &owner, CreatedAt: created, UpdatedAt: created},
	} {
		asMaps := Resource{ID: p.ID.String(), Type: "project", Attributes: map[string]any{
			"name": p.Name, "description": p.Description, "status": p.Status, "created_at": timestamp(p.CreatedAt), "updated_at": timestamp(p.UpdatedAt),
		}, Relationships: map[string]any{"owner": idRef("user", p.OwnerID)}}
		want, err := json.Marshal(asMaps)
		require.NoError(t, err)
		got, err := json.Marshal(projectResource(p))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
}
