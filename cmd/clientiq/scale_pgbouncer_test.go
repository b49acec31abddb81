package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// scPgBouncerBinary returns the pgbouncer program: on PATH, in /usr/sbin
// (Debian's package), or installed now by scripts/services.sh (apt-get, as
// root). The test is skipped only when none of these works.
func scPgBouncerBinary(t testing.TB) string {
	t.Helper()
	find := func() string {
		if p, err := exec.LookPath("pgbouncer"); err == nil {
			return p
		}
		if st, err := os.Stat("/usr/sbin/pgbouncer"); err == nil && st.Mode()&0o111 != 0 {
			return "/usr/sbin/pgbouncer"
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", filepath.Join("..", "..", "scripts", "services.sh"), "pgbouncer").CombinedOutput()
	if p := find(); p != "" {
		return p
	}
	t.Skipf("pgbouncer is not installed and scripts/services.sh could not install it (%v):\n%s", err, out)
	return ""
}

// scBouncer is a PgBouncer of the test's own, in transaction pooling mode.
type scBouncer struct {
	// url reaches the test database through the bouncer.
	url string
	// adminURL reaches PgBouncer's admin console (SHOW POOLS, SHOW STATS).
	adminURL string
	// poolSize is default_pool_size: the most server connections it opens
	// to the database, however many clients connect.
	poolSize int
	stderr   *syncBuffer
}

// scStartPgBouncer starts bin in the foreground with an ini file of its own
// (transaction pooling, trust authentication of the database URL's user, a
// free loopback port, no Unix socket) in front of the database of dbURL,
// and stops it when the test ends.
func scStartPgBouncer(t testing.TB, bin, dbURL string, poolSize int) *scBouncer {
	t.Helper()
	pc, err := pgx.ParseConfig(dbURL)
	require.NoError(t, err)
	dir := t.TempDir()
	// When the test runs as root, pgbouncer (which refuses to run as root)
	// drops to nobody, so its files must be readable by everyone.
	require.NoError(t, os.Chmod(dir, 0o755))
	port := freePort(t)
	backend := fmt.Sprintf("host=%s port=%d dbname=%s user=%s", pc.Host, pc.Port, pc.Database, pc.User)
	if pc.Password != "" {
		backend += " password=" + pc.Password
	}
	ini := strings.Join([]string{
		"[databases]",
		pc.Database + " = " + backend,
		"[pgbouncer]",
		"listen_addr = 127.0.0.1",
		"listen_port = " + port,
		"unix_socket_dir =",
		"auth_type = trust",
		"auth_file = " + filepath.Join(dir, "userlist.txt"),
		"admin_users = " + pc.User,
		"pool_mode = transaction",
		"max_client_conn = 500",
		"default_pool_size = " + strconv.Itoa(poolSize),
		"max_db_connections = " + strconv.Itoa(poolSize),
		"ignore_startup_parameters = extra_float_digits",
		"",
	}, "\n")
	iniPath := filepath.Join(dir, "pgbouncer.ini")
	require.NoError(t, os.WriteFile(iniPath, []byte(ini), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "userlist.txt"), []byte(strconv.Quote(pc.User)+` ""`+"\n"), 0o644))

	args := []string{iniPath}
	if os.Geteuid() == 0 {
		args = []string{"-u", "nobody", iniPath}
	}
	cmd := exec.Command(bin, args...)
	b := &scBouncer{poolSize: poolSize, stderr: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = b.stderr, b.stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // immediate shutdown
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})

	u := url.URL{Scheme: "postgres", User: url.User(pc.User), Host: net.JoinHostPort("127.0.0.1", port),
		Path: "/" + pc.Database, RawQuery: "sslmode=disable"}
	b.url = u.String()
	u.Path = "/pgbouncer"
	// The admin console speaks the simple query protocol only.
	u.RawQuery = "sslmode=disable&default_query_exec_mode=simple_protocol"
	b.adminURL = u.String()

	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("pgbouncer exited at start:\n%s", b.stderr)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, b.url)
		if err == nil {
			err = conn.Ping(ctx)
			_ = conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer did not pass a query through within 15s: %v\n%s", err, b.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scPool is one line of SHOW POOLS: the bouncer's client and server
// connections for the test database.
type scPool struct {
	clients, waiting, servers int
}

// pool reads SHOW POOLS for database.
func (b *scBouncer) pool(t *testing.T, database string) scPool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, b.adminURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SHOW POOLS")
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.Values()
		require.NoError(t, err)
		col := map[string]int{}
		var db string
		for i, fd := range rows.FieldDescriptions() {
			switch v := vals[i].(type) {
			case string:
				if fd.Name == "database" {
					db = v
				}
				col[fd.Name], _ = strconv.Atoi(v)
			case int64:
				col[fd.Name] = int(v)
			case int32:
				col[fd.Name] = int(v)
			}
		}
		if db == database {
			return scPool{clients: col["cl_active"] + col["cl_waiting"], waiting: col["cl_waiting"],
				servers: col["sv_active"] + col["sv_idle"] + col["sv_used"] + col["sv_tested"] + col["sv_login"]}
		}
	}
	require.NoError(t, rows.Err())
	t.Fatalf("SHOW POOLS has no line for %s", database)
	return scPool{}
}

// listening returns the channels any PostgreSQL session behind the bouncer
// LISTENs on, and how many sessions it looked at. PostgreSQL shows a
// session's channels only to that session, so it opens poolSize
// transactions at once through the bouncer: each one holds a server
// connection of its own until it ends, so together they visit every one.
func (b *scBouncer) listening(t *testing.T) (channels []string, sessions int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pids := map[int32]bool{}
	var txs []pgx.Tx
	defer func() {
		for _, tx := range txs {
			_ = tx.Rollback(context.Background())
			_ = tx.Conn().Close(context.Background())
		}
	}()
	for range b.poolSize {
		conn, err := pgx.Connect(ctx, b.url+"&default_query_exec_mode=simple_protocol")
		require.NoError(t, err)
		tx, err := conn.Begin(ctx)
		require.NoError(t, err)
		txs = append(txs, tx)
		var pid int32
		var chans []string
		require.NoError(t, tx.QueryRow(ctx, "SELECT pg_backend_pid(), array(SELECT pg_listening_channels())").Scan(&pid, &chans))
		pids[pid] = true
		channels = append(channels, chans...)
	}
	return channels, len(pids)
}
