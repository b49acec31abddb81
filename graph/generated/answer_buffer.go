package generated

// This file is not generated: `make generate` points the generated code's
// answer buffers here (see graph/internal/genpatch).

import (
	"bytes"
	"sync"
)

// maxRecycledAnswer is the largest buffer kept for reuse: a rare large
// answer is not held for the process's life.
const maxRecycledAnswer = 64 << 10

// answerArrays holds the byte arrays of answers already sent, each in a box
// (a *[]byte) so that putting one back allocates nothing; emptyBoxes holds
// the boxes whose array was taken.
var answerArrays, emptyBoxes sync.Pool

// answerBuffer is the buffer a query's or mutation's answer is written
// into: gqlgen starts each one empty and grows it by doubling (six
// allocations and twice its size for a 2 KB list page); this one starts
// with the array of an answer already sent, when there is one.
func answerBuffer() *bytes.Buffer {
	box, _ := answerArrays.Get().(*[]byte)
	if box == nil {
		return new(bytes.Buffer)
	}
	b := (*box)[:0]
	*box = nil
	emptyBoxes.Put(box)
	return bytes.NewBuffer(b)
}

// ReleaseAnswer hands back an answer's data (graphql.Response.Data of a
// query or mutation) for a later answer to be written into. The caller
// must have written it out and keep no reference to it: the next answer
// overwrites it. Data that did not come from answerBuffer is simply
// adopted, which is harmless.
func ReleaseAnswer(data []byte) {
	if cap(data) == 0 || cap(data) > maxRecycledAnswer {
		return
	}
	box, _ := emptyBoxes.Get().(*[]byte)
	if box == nil {
		box = new([]byte)
	}
	*box = data[:0]
	answerArrays.Put(box)
}
