package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version and commit are set by the package build (-ldflags "-X main.version=… -X
// main.commit=…"); a plain go build or go install leaves them empty, and the module's build
// information says what it can instead.
var (
	version string
	commit  string
)

// VersionCommand is `mqsql version` (and `mqsql --version`): the version and commit of this
// binary, which a bug report needs and a package manager shows.
type VersionCommand struct {
	streams
}

// Run implements Command; it takes no arguments.
func (c *VersionCommand) Run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	v, rev := versionInfo()
	fmt.Fprintf(c.stdout, "mqsql %s (commit %s)\n", v, rev)
	return nil
}

// versionInfo is the version and commit: the ones the build set, else the module version and
// VCS revision Go recorded, else "devel" and "unknown".
func versionInfo() (string, string) {
	v, rev := version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && rev == "" {
				rev = s.Value
			}
		}
	}
	if v == "" {
		v = "devel"
	}
	if rev == "" {
		rev = "unknown"
	}
	return v, rev
}
