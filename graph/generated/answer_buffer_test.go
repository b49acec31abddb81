package generated

// Not generated: tests answer_buffer.go.

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAnswerBufferStartsEmptyOnAReleasedArray(t *testing.T) {
	t.Parallel()
	ReleaseAnswer([]byte(`{"projects":{"edges":[]}}`))
	ReleaseAnswer(nil) // nothing to keep
	for i := range 50 {
		buf := answerBuffer()
		require.Zero(t, buf.Len(), "round %d", i)
		buf.WriteString("answer")
		require.Equal(t, "answer", buf.String())
		ReleaseAnswer(buf.Bytes())
	}
}

// Not parallel: testing.AllocsPerRun refuses to run beside parallel tests.
func TestAnswerBufferReusesTheArrayOfAnAnswerSent(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	piece := strings.Repeat("x", 100)
	write := func(reuse bool) float64 {
		return testing.AllocsPerRun(200, func() {
			buf := answerBuffer()
			for range 20 { // a 2 KB answer, as a list page
				buf.WriteString(piece)
			}
			if reuse {
				ReleaseAnswer(buf.Bytes())
			}
		})
	}
	without, with := write(false), write(true)
	t.Logf("allocations per 2 KB answer: %v without release, %v with", without, with)
	require.GreaterOrEqual(t, without, 5.0, "grown by doubling")
	require.LessOrEqual(t, with, 1.0, "only the Buffer itself")
}
