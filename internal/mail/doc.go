// Package mail owns how ClientIQ emails leave the building: the localized
// templates embedded in the binary, the SendEmail River job and its worker,
// and the senders that deliver a rendered message (SMTP through go-mail, or
// the log when SMTP_URL is empty). Deciding who gets which email, inside the
// deciding transaction, is notify's job; docs/email.md has the whole story.
package mail
