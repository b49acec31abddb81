package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/dbtest"
	"github.com/clientiq/clientiq/internal/mailtest"
)

// TestServeBillsAnUpgradeEndToEnd runs the real binary with its River
// workers, the sandbox provider and a real SMTP server: a new tenant is on
// Free, an upgrade invoices the prorated price, the payment job charges it
// once, the invoice ends paid and the owner gets the receipt.
func TestServeBillsAnUpgradeEndToEnd(t *testing.T) {
	t.Parallel()
	db := dbtest.New(t)
	mp := mailtest.Start(t)
	base := "b" + dbtest.RandomSuffix() + ".test"
	owner := "owner@" + base
	s := startServer(t, newEnv(t, db.URL).with("SMTP_URL", mp.SMTPURL(), "BASE_DOMAIN", base, "TRUSTED_PROXIES", "127.0.0.1/32"))
	s.clientIP = randomClientIP()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, db.URL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	out := postGraphQL(t, s, `mutation($in: SignupInput!) { signup(input: $in) { tokens { accessToken } } }`,
		map[string]any{"in": map[string]any{"email": owner, "password": "correct horse battery staple 42",
			"name": "Owner", "tenantName": "Payers", "tenantSlug": "payers"}})
	require.Nil(t, out["errors"], "%v", out)
	token := out["data"].(map[string]any)["signup"].(map[string]any)["tokens"].(map[string]any)["accessToken"].(string)
	as := []string{"Authorization", "Bearer " + token, "X-Tenant", "payers"}
	gql := func(query string) map[string]any {
		t.Helper()
		out := postGraphQL(t, s, query, nil, as...)
		require.Nil(t, out["errors"], "%v", out)
		return out["data"].(map[string]any)
	}

	plans := postGraphQL(t, s, `{ plans { name } }`, nil)
	require.Nil(t, plans["errors"], "%v", plans)
	require.Len(t, plans["data"].(map[string]any)["plans"], 4, "the seeded price list, anonymously")

	sub := gql(`{ subscription { status plan { name } } }`)["subscription"].(map[string]any)
	require.Equal(t, "active", sub["status"])
	require.Equal(t, "Free", sub["plan"].(map[string]any)["name"])

	// Free allows 3 projects: the fourth is refused with the plan's code.
	create := func(name string) map[string]any {
		return postGraphQL(t, s, `mutation($n: String!) { createProject(input: {name: $n}) { id name } }`,
			map[string]any{"n": name}, as...)
	}
	for i := range 3 {
		out := create(fmt.Sprintf("project %d", i))
		require.Nil(t, out["errors"], "%v", out)
	}
	out = create("one too many")
	require.NotNil(t, out["errors"], "%v", out)
	ext := out["errors"].([]any)[0].(map[string]any)["extensions"].(map[string]any)
	require.Equal(t, "PLAN_LIMIT_EXCEEDED", ext["code"], "%v", out)

	// No trial on Starter here, so the upgrade is charged at once.
	_, err = pool.Exec(ctx, `UPDATE public.plans SET trial_days = 0 WHERE code = 'starter'`)
	require.NoError(t, err)
	sub = gql(`mutation { changePlan(input: {plan: "starter"}) { status plan { name } } }`)["changePlan"].(map[string]any)
	require.Equal(t, "Starter", sub["plan"].(map[string]any)["name"])

	var number string
	require.Eventually(t, func() bool {
		edges := gql(`{ invoices(first: 5) { edges { node { number status total } } } }`)["invoices"].(map[string]any)["edges"].([]any)
		if len(edges) != 1 {
			return false
		}
		node := edges[0].(map[string]any)["node"].(map[string]any)
		number = node["number"].(string)
		return node["status"] == "paid"
	}, 60*time.Second, 200*time.Millisecond, "the invoice is paid by the payment job; server log:\n%s", s.stderr)

	out = create("room on Starter")
	require.Nil(t, out["errors"], "Starter allows 25 projects: %v", out)

	var charges, paid int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM public.sandbox_charges`).Scan(&charges))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM public.payments WHERE status = 'succeeded'`).Scan(&paid))
	require.Equal(t, 1, charges, "one charge at the provider")
	require.Equal(t, 1, paid)

	require.Eventually(t, func() bool {
		for _, m := range mp.MessagesTo(owner) {
			if strings.Contains(m.Subject, number) {
				return true
			}
		}
		return false
	}, 30*time.Second, 200*time.Millisecond, "a receipt for %s", number)
	t.Logf("invoice %s paid; emails to the owner: %s", number, fmt.Sprint(len(mp.MessagesTo(owner))))
}
