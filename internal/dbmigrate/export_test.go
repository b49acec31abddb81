package dbmigrate

// ApplyOne exposes applyOne to the external test package, which must be
// external because dbtest imports dbmigrate.
var ApplyOne = applyOne
