// Package notify owns who is told what by email: Outbox turns domain events
// (a password reset, an invitation, a payment) into mail.SendEmailArgs jobs
// inserted in the caller's transaction, with the links and the uniqueness
// each email needs. Rendering and delivery are package mail's.
package notify
