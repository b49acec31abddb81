package mailtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Address is a mailbox as Mailpit reports it.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message in Mailpit's list.
type Summary struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
	Created   time.Time `json:"Created"`
}

// Message is one message with its bodies.
type Message struct {
	ID        string    `json:"ID"`
	MessageID string    `json:"MessageID"`
	From      Address   `json:"From"`
	To        []Address `json:"To"`
	Subject   string    `json:"Subject"`
	Text      string    `json:"Text"`
	HTML      string    `json:"HTML"`
}

// Messages lists every message Mailpit holds, newest first.
func (s *Server) Messages() []Summary {
	s.t.Helper()
	list, err := s.messages()
	if err != nil {
		s.t.Fatalf("mailtest: %v", err)
	}
	return list
}

func (s *Server) messages() ([]Summary, error) {
	var body struct {
		Messages []Summary `json:"messages"`
	}
	if err := s.call(http.MethodGet, "/api/v1/messages?limit=5000", &body); err != nil {
		return nil, err
	}
	return body.Messages, nil
}

// Message fetches one message by its Mailpit ID (Summary.ID).
func (s *Server) Message(id string) Message {
	s.t.Helper()
	var m Message
	if err := s.call(http.MethodGet, "/api/v1/message/"+id, &m); err != nil {
		s.t.Fatalf("mailtest: %v", err)
	}
	return m
}

// MessagesTo lists the messages addressed to addr (case-insensitive).
func (s *Server) MessagesTo(addr string) []Summary {
	s.t.Helper()
	var out []Summary
	for _, m := range s.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to.Address, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// WaitForMessages waits until Mailpit holds at least n messages and returns
// them; the test fails if that takes longer than timeout.
func (s *Server) WaitForMessages(n int, timeout time.Duration) []Summary {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		list, err := s.messages()
		if err == nil && len(list) >= n {
			return list
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("mailtest: %d messages after %s, want %d (last error: %v)", len(list), timeout, n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DeleteAll deletes every message.
func (s *Server) DeleteAll() {
	s.t.Helper()
	if err := s.call(http.MethodDelete, "/api/v1/messages", nil); err != nil {
		s.t.Fatalf("mailtest: %v", err)
	}
}

// call sends a request to Mailpit's API and decodes a JSON answer into out
// (nil discards it).
func (s *Server) call(method, path string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.APIURL()+path, nil)
	if err != nil {
		return fmt.Errorf("mailpit %s %s: %w", method, path, err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("mailpit %s %s: %s: %s", method, path, resp.Status, b)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("mailpit %s %s: decode: %w", method, path, err)
	}
	return nil
}
