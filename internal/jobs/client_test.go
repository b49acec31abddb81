package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/jobs"
)

// TallyArgs is a global job whose runs are counted per job id.
type TallyArgs struct {
	N int `json:"n"`
}

func (TallyArgs) Kind() string { return "test_tally" }
func (TallyArgs) Global() bool { return true }

// tally counts runs per job id across clients.
type tally struct {
	mu   sync.Mutex
	runs map[int64]int
	done chan struct{}
	want int
}

// TallyWorker works TallyArgs.
type TallyWorker struct {
	river.WorkerDefaults[TallyArgs]
	tally *tally
}

func (w *TallyWorker) Work(_ context.Context, job *river.Job[TallyArgs]) error {
	w.tally.mu.Lock()
	defer w.tally.mu.Unlock()
	w.tally.runs[job.ID]++
	if len(w.tally.runs) == w.tally.want {
		close(w.tally.done)
	}
	return nil
}

func TestTwoClientsOnOneDatabaseRunEachJobOnce(t *testing.T) {
	t.Parallel()
	const n = 200
	e := newEnv(t)
	tl := &tally{runs: map[int64]int{}, done: make(chan struct{}), want: n}
	for range 2 {
		w := river.NewWorkers()
		river.AddWorker(w, &TallyWorker{tally: tl})
		c, err := jobs.NewClient(e.db.Pool, jobs.Config{Logger: discard, Workers: w, DefaultWorkers: 8, TestOnly: true})
		require.NoError(t, err)
		start(t, c)
	}
	inserter, err := jobs.NewInserter(e.db.Pool, discard)
	require.NoError(t, err)
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: TallyArgs{N: i}}
	}
	res, err := inserter.InsertMany(context.Background(), params)
	require.NoError(t, err)
	require.Len(t, res, n)

	select {
	case <-tl.done:
	case <-time.After(30 * time.Second):
		t.Fatal("200 jobs did not all run within 30s")
	}
	// Let a duplicate run, if there were one, land before counting.
	require.Eventually(t, func() bool {
		var completed int
		require.NoError(t, e.db.Pool.QueryRow(context.Background(),
			"SELECT count(*) FROM public.river_job WHERE state = 'completed'").Scan(&completed))
		return completed == n
	}, 10*time.Second, 50*time.Millisecond)

	tl.mu.Lock()
	defer tl.mu.Unlock()
	require.Len(t, tl.runs, n)
	for _, r := range res {
		require.Equal(t, 1, tl.runs[r.Job.ID], "job %d", r.Job.ID)
	}
}
