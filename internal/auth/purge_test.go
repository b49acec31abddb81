package auth_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/auth"
	"github.com/clientiq/clientiq/internal/dbtest"
)

func TestPurgeTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Now()
	cutoff := now.Add(-7 * 24 * time.Hour)
	long, lately, later := cutoff.Add(-time.Hour), cutoff.Add(time.Hour), now.Add(time.Hour)

	userID := uuid.New()
	_, err := d.Pool.Exec(ctx, `INSERT INTO public.users (id, email, created_at, updated_at) VALUES ($1, $2, now(), now())`,
		userID, userID.String()+"@example.com")
	require.NoError(t, err)

	refresh := func(expires time.Time, consumed, revoked *time.Time) uuid.UUID {
		id := uuid.New()
		_, err := d.Pool.Exec(ctx, `INSERT INTO public.refresh_tokens (id, token_hash, family_id, user_id, created_at, expires_at, consumed_at, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, id[:], uuid.New(), userID, expires.Add(-30*24*time.Hour), expires, consumed, revoked)
		require.NoError(t, err)
		return id
	}
	user := func(expires time.Time, used *time.Time) uuid.UUID {
		id := uuid.New()
		_, err := d.Pool.Exec(ctx, `INSERT INTO public.user_tokens (id, user_id, purpose, token_hash, created_at, expires_at, used_at)
			VALUES ($1, $2, 'password_reset', $3, $4, $5, $6)`, id, userID, id[:], expires.Add(-time.Hour), expires, used)
		require.NoError(t, err)
		return id
	}

	refresh(long, nil, nil)    // expired before the cutoff
	refresh(later, nil, &long) // revoked before the cutoff
	keptRefresh := []uuid.UUID{
		refresh(lately, nil, nil),    // expired after the cutoff
		refresh(later, nil, &lately), // revoked after the cutoff
		refresh(later, &long, nil),   // consumed long ago but live: reuse detection needs it
		refresh(later, nil, nil),     // live
	}
	user(long, nil)    // expired before the cutoff
	user(later, &long) // used before the cutoff
	keptUser := []uuid.UUID{user(lately, nil), user(later, &lately), user(later, nil)}

	r, u, err := auth.PurgeTokens(ctx, d.Pool, cutoff)

	require.NoError(t, err)
	require.EqualValues(t, 2, r)
	require.EqualValues(t, 2, u)
	ids := func(table string) []uuid.UUID {
		rows, err := d.Pool.Query(ctx, "SELECT id FROM public."+table)
		require.NoError(t, err)
		var out []uuid.UUID
		for rows.Next() {
			var id uuid.UUID
			require.NoError(t, rows.Scan(&id))
			out = append(out, id)
		}
		require.NoError(t, rows.Err())
		return out
	}
	require.ElementsMatch(t, keptRefresh, ids("refresh_tokens"))
	require.ElementsMatch(t, keptUser, ids("user_tokens"))

	t.Run("the worker never keeps less than a day, whatever it is told", func(t *testing.T) {
		hourAgo, twoDaysAgo := now.Add(-time.Hour), now.Add(-48*time.Hour)
		recent := refresh(later, nil, &hourAgo)
		stale := refresh(twoDaysAgo, nil, nil)
		w := auth.NewPurgeTokensWorker(auth.PurgeTokensConfig{Pool: d.Pool, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Retention: time.Minute, Now: func() time.Time { return now }})

		require.NoError(t, w.Work(ctx, &river.Job[auth.PurgeTokensArgs]{JobRow: &rivertype.JobRow{}}))

		left := ids("refresh_tokens")
		require.Contains(t, left, recent, "a token revoked an hour ago still ends its access tokens")
		require.NotContains(t, left, stale)
	})

	t.Run("the purge is a global maintenance job", func(t *testing.T) {
		require.True(t, auth.PurgeTokensArgs{}.Global())
		require.Equal(t, "maintenance", auth.PurgeTokensArgs{}.InsertOpts().Queue)
	})
}
