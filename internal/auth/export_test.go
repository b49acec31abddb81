package auth

import "time"

// SetClock replaces the ring's clock (tests of expiry).
func (k *KeyRing) SetClock(now func() time.Time) { k.now = now }
