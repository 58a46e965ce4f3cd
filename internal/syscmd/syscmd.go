// Package syscmd finds the MTA's commands mqsql runs (postconf, postsuper, postqueue,
// postkick, exim4, exim): in the system directories where the MTA installs them first, and in
// PATH only when none holds it. mqsql runs as root, often from a shell whose PATH a user
// shaped (sudo -E, su without -): a postsuper planted in a PATH directory must not be what
// root runs when the real one is in /usr/sbin.
package syscmd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// SystemDirs are searched, in order, before PATH: where Debian, Red Hat and upstream builds
// install Postfix's and Exim's commands.
var SystemDirs = []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin", "/bin"}

// ErrNotFound reports a command in none of SystemDirs nor PATH.
var ErrNotFound = errors.New("command not found")

// Find returns the absolute path of the command name: the first executable regular file
// called name in SystemDirs, else what PATH finds (made absolute), the documented fallback
// for an MTA installed elsewhere.
func Find(name string) (string, error) {
	for _, dir := range SystemDirs {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s (looked in %v and PATH)", ErrNotFound, name, SystemDirs)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p, nil
}

// FindFirst is Find of the first of names that exists anywhere it looks.
func FindFirst(names ...string) (string, error) {
	var first error
	for _, n := range names {
		p, err := Find(n)
		if err == nil {
			return p, nil
		}
		if first == nil {
			first = err
		}
	}
	return "", first
}
