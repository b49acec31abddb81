package main

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func rssFileKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

func TestPageOutExecutableDropsResidentPagesOfTheBinary(t *testing.T) {
	before := rssFileKB(t)
	advised, err := pageOutExecutable()
	require.NoError(t, err)
	exe, err := os.Stat("/proc/self/exe")
	require.NoError(t, err)
	require.Positive(t, advised)
	require.LessOrEqual(t, advised, exe.Size()+1<<20, "only the executable's own mappings are advised")
	after := rssFileKB(t)
	t.Logf("RssFile %d kB → %d kB (advised %d kB)", before, after, advised>>10)
	require.Less(t, after, before, "the binary's pages left the resident set")
}
