// Package auth owns authentication: argon2id password hashing in a bounded
// pool, JWT access tokens (golang-jwt v5) with a rotating key ring, opaque
// refresh tokens with rotation and reuse detection, and one-time tokens for
// password reset and email verification.
package auth
