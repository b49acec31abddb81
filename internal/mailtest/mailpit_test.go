package mailtest_test

import (
	"net"
	"net/smtp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clientiq/clientiq/internal/mailtest"
)

func send(t *testing.T, s *mailtest.Server, to, subject string) error {
	t.Helper()
	msg := "From: a@test.local\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n" +
		"Content-Type: text/plain\r\n\r\nbody of " + subject + "\r\n"
	return smtp.SendMail("127.0.0.1:"+strconv.Itoa(s.SMTPPort()), nil, "a@test.local", []string{to}, []byte(msg))
}

func TestServer(t *testing.T) {
	t.Parallel()

	t.Run("receives, lists, fetches and deletes messages", func(t *testing.T) {
		t.Parallel()
		s := mailtest.Start(t)
		require.NoError(t, send(t, s, "one@test.local", "first"))
		require.NoError(t, send(t, s, "two@test.local", "second"))

		require.Len(t, s.WaitForMessages(2, 10*time.Second), 2)
		to := s.MessagesTo("TWO@test.local")
		require.Len(t, to, 1)
		m := s.Message(to[0].ID)
		require.Equal(t, "second", m.Subject)
		require.Equal(t, "two@test.local", m.To[0].Address)
		require.Contains(t, m.Text, "body of second")

		s.DeleteAll()
		require.Empty(t, s.Messages())
	})

	t.Run("stop refuses smtp and restart accepts again on the same port", func(t *testing.T) {
		t.Parallel()
		s := mailtest.Start(t)
		port := s.SMTPPort()
		require.NoError(t, send(t, s, "before@test.local", "before"))
		s.WaitForMessages(1, 10*time.Second)

		s.Stop()
		_, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		require.Error(t, err)
		require.Error(t, send(t, s, "down@test.local", "down"))

		s.Restart()
		require.Equal(t, port, s.SMTPPort())
		require.NoError(t, send(t, s, "after@test.local", "after"))
		list := s.WaitForMessages(2, 10*time.Second)
		require.Len(t, list, 2, "messages from before the restart are kept")
	})

	t.Run("a recipient outside the allowed pattern is refused", func(t *testing.T) {
		t.Parallel()
		s := mailtest.StartWith(t, &mailtest.Options{AllowedRecipients: `@ok\.local$`})
		err := send(t, s, "x@no.local", "refused")
		require.Error(t, err)
		require.True(t, strings.HasPrefix(err.Error(), "5"), err.Error())
		require.NoError(t, send(t, s, "x@ok.local", "accepted"))
		require.Len(t, s.WaitForMessages(1, 10*time.Second), 1)
	})

	t.Run("two servers are isolated", func(t *testing.T) {
		t.Parallel()
		a, b := mailtest.Start(t), mailtest.Start(t)
		require.NotEqual(t, a.SMTPPort(), b.SMTPPort())
		require.NoError(t, send(t, a, "x@test.local", "only a"))
		a.WaitForMessages(1, 10*time.Second)
		require.Empty(t, b.Messages())
	})
}
