// Package buildinfo owns the version string the binary reports.
package buildinfo

import "runtime/debug"

// version is set at link time: -ldflags "-X github.com/clientiq/clientiq/internal/buildinfo.version=v1.2.3".
var version string

// Version returns the link-time version, else the module version or VCS
// revision Go recorded, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "dev"
}
