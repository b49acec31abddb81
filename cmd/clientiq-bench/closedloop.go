package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// closedLoop drives the closed-loop runs: conns connections, each sending
// its next request as soon as the answer to the last one is read, until du
// has passed or ctx ends. It returns the answers' tally.
//
// It speaks HTTP/1.1 on its sockets itself, as wrk does, because the load
// generator shares the two cores with the server and PostgreSQL: vegeta's
// net/http client, with its result channel, spends 70–85 µs of CPU a
// request (goroutine hand-offs per round trip and per result, header maps,
// a body per answer), taken from the server it measures. Here each
// connection's goroutine writes a prepared request, reads the answer into a
// buffer it reuses, and checks and counts it itself. The answers are still
// read whole and checked like vegeta's (status, body). The constant-rate
// runs stay with vegeta.
func closedLoop(ctx context.Context, spec attackSpec, conns int, du, timeout time.Duration) *tally {
	ctx, cancel := context.WithTimeout(ctx, du)
	defer cancel()
	tallies := make([]*tally, conns)
	var wg sync.WaitGroup
	for i := range conns {
		tallies[i] = newTally(spec)
		wg.Go(func() { loopConn(ctx, spec.targeter, timeout, tallies[i]) })
	}
	wg.Wait()
	t := newTally(spec)
	for _, w := range tallies {
		t.merge(w)
	}
	return t
}

// loopConn is one connection's loop: it dials again after the server
// closes the connection or an error.
func loopConn(ctx context.Context, tr vegeta.Targeter, timeout time.Duration, t *tally) {
	var (
		c    *httpConn
		tgt  vegeta.Target
		wbuf []byte
		body []byte
		urls = map[string]*url.URL{}
	)
	defer func() {
		if c != nil {
			c.close()
		}
	}()
	// over: the run has ended; no new request starts. The deadline is
	// read directly as well: a dial fails on it as soon as it passes,
	// while ctx.Err() turns non-nil only when the context's timer has run,
	// which on a loaded machine can be later; failed dials in that gap
	// would be counted as errors.
	deadline, hasDeadline := ctx.Deadline()
	over := func() bool {
		return ctx.Err() != nil || (hasDeadline && !time.Now().Before(deadline))
	}
	fail := func(err error) {
		t.add(&vegeta.Result{Timestamp: time.Now(), Error: err.Error(), Method: tgt.Method, URL: tgt.URL})
	}
	for !over() {
		if err := tr(&tgt); err != nil {
			fail(err)
			if errors.Is(err, vegeta.ErrNoTargets) {
				return
			}
			continue
		}
		u := urls[tgt.URL]
		if u == nil {
			var err error
			if u, err = url.Parse(tgt.URL); err != nil {
				fail(err)
				continue
			}
			urls[tgt.URL] = u
		}
		wbuf = appendRequest(wbuf[:0], &tgt, u)
		if c == nil {
			var err error
			if c, err = dialHTTP(ctx, u.Host); err != nil {
				if !over() {
					fail(err)
				}
				continue
			}
		}
		start := time.Now()
		// A request in progress when the run ends is answered and counted,
		// as with vegeta: cutting it would cancel its query on the server,
		// which closes that database connection, and the next run would
		// pay for new backends warming up.
		_ = c.nc.SetDeadline(start.Add(timeout))
		code, b, keep, err := c.roundTrip(wbuf, body[:0], tgt.Method == "HEAD")
		body = b
		res := vegeta.Result{Timestamp: start, Latency: time.Since(start), Code: uint16(code), Body: body,
			Method: tgt.Method, URL: tgt.URL, BytesOut: uint64(len(tgt.Body)), BytesIn: uint64(len(body))}
		if err != nil || !keep {
			c.close()
			c = nil
		}
		if err != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return // stopped (interrupted), not an answer
		}
		if err != nil {
			res.Error = err.Error()
		}
		t.add(&res)
	}
}

// appendRequest writes tgt as an HTTP/1.1 request to buf.
func appendRequest(buf []byte, tgt *vegeta.Target, u *url.URL) []byte {
	host := u.Host
	if h := tgt.Header.Get("Host"); h != "" {
		host = h
	}
	buf = append(buf, tgt.Method...)
	buf = append(buf, ' ')
	buf = append(buf, u.RequestURI()...)
	buf = append(buf, " HTTP/1.1\r\nHost: "...)
	buf = append(buf, host...)
	buf = append(buf, "\r\nUser-Agent: clientiq-bench\r\n"...)
	for k, vs := range tgt.Header {
		if k == "Host" {
			continue
		}
		for _, v := range vs {
			buf = append(buf, k...)
			buf = append(buf, ": "...)
			buf = append(buf, v...)
			buf = append(buf, "\r\n"...)
		}
	}
	if len(tgt.Body) > 0 || tgt.Method == "POST" || tgt.Method == "PUT" || tgt.Method == "PATCH" {
		buf = append(buf, "Content-Length: "...)
		buf = strconv.AppendInt(buf, int64(len(tgt.Body)), 10)
		buf = append(buf, "\r\n"...)
	}
	buf = append(buf, "\r\n"...)
	return append(buf, tgt.Body...)
}

// httpConn is one kept-alive connection.
type httpConn struct {
	nc net.Conn
	br *bufio.Reader
}

func dialHTTP(ctx context.Context, addr string) (*httpConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &httpConn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10)}, nil
}

func (c *httpConn) close() { _ = c.nc.Close() }

var (
	errMalformed = errors.New("malformed HTTP response")
	crlf         = []byte("\r\n")

	hContentLength    = []byte("Content-Length")
	hTransferEncoding = []byte("Transfer-Encoding")
	hConnection       = []byte("Connection")
)

// roundTrip writes req and reads the answer: its status, its body, and
// whether the connection may carry another request.
func (c *httpConn) roundTrip(req, body []byte, head bool) (code int, _ []byte, keep bool, err error) {
	if _, err := c.nc.Write(req); err != nil {
		return 0, nil, false, err
	}
	line, err := c.line()
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, nil, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	if code, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, nil, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	length, chunked, keep := -1, false, line[7] == '1'
	for {
		line, err = c.line()
		if err != nil {
			return code, nil, false, err
		}
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return code, nil, false, fmt.Errorf("%w: header %q", errMalformed, line)
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, hContentLength):
			if length, err = strconv.Atoi(string(v)); err != nil || length < 0 {
				return code, nil, false, fmt.Errorf("%w: Content-Length %q", errMalformed, v)
			}
		case bytes.EqualFold(k, hTransferEncoding):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, hConnection):
			if bytes.EqualFold(v, []byte("close")) {
				keep = false
			}
		}
	}
	switch {
	case head || code == 204 || code == 304 || code/100 == 1:
		return code, nil, keep, nil
	case chunked:
		body, err = c.chunkedBody(body)
	case length >= 0:
		body = slices.Grow(body, length)[:length]
		_, err = io.ReadFull(c.br, body)
	default: // the body runs to the end of the connection
		var rest []byte
		rest, err = io.ReadAll(c.br)
		body = append(body, rest...)
		keep = false
	}
	return code, body, keep && err == nil, err
}

// chunkedBody reads a chunked body into body.
func (c *httpConn) chunkedBody(body []byte) ([]byte, error) {
	for {
		line, err := c.line()
		if err != nil {
			return body, err
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 31)
		if err != nil {
			return body, fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if n == 0 {
			for { // trailers, then the blank line
				if line, err = c.line(); err != nil || len(line) == 0 {
					return body, err
				}
			}
		}
		start := len(body)
		body = slices.Grow(body, int(n))[:start+int(n)]
		if _, err := io.ReadFull(c.br, body[start:]); err != nil {
			return body, err
		}
		if line, err = c.line(); err != nil || len(line) != 0 {
			return body, cmpErr(err, fmt.Errorf("%w: no CRLF after a chunk", errMalformed))
		}
	}
}

// line reads one CRLF-terminated line, without the CRLF; the slice is
// valid until the next read.
func (c *httpConn) line() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line longer than %d bytes", errMalformed, c.br.Size())
		}
		return nil, err
	}
	if !bytes.HasSuffix(line, crlf) {
		return nil, fmt.Errorf("%w: line without CRLF", errMalformed)
	}
	return line[:len(line)-2], nil
}

func cmpErr(err, alt error) error {
	if err != nil {
		return err
	}
	return alt
}
