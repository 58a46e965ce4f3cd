// Package testuser creates a local user for one test, so that a test run as root can do what
// another user of the machine could: plant links, FIFOs and folders where mqsql, as root,
// creates and writes files. The user is removed when the test ends.
package testuser

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// User is a local user made for a test.
type User struct {
	Name     string
	UID, GID int
}

var made atomic.Int64

// New creates a user with no home and no login shell, removed when t ends. It skips t when
// the test does not run as root (only root can create users or act as one).
func New(t testing.TB) *User {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("acting as another local user needs root")
	}
	name := fmt.Sprintf("mqsqlt%d_%d", os.Getpid(), made.Add(1))
	// useradd takes /etc/passwd's lock; tests of other packages may hold it for a moment.
	var out []byte
	var err error
	for try := 0; try < 20; try++ {
		out, err = exec.Command("/usr/sbin/useradd", "--no-create-home", "--user-group",
			"--shell", "/usr/sbin/nologin", name).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "lock") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("/usr/sbin/userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v: %s", name, err, out)
		}
	})
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &User{Name: name, UID: uid, GID: gid}
}

// Command is a command run as the user.
func (u *User) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u.UID), Gid: uint32(u.GID)}}
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
	return cmd
}

// Sh runs the shell script as the user (args are $1...) and fails t when it fails.
func (u *User) Sh(t testing.TB, script string, args ...string) {
	t.Helper()
	out, err := u.Command("/bin/sh", append([]string{"-ec", script, "sh"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("as %s: %s: %v: %s", u.Name, script, err, out)
	}
}

// Dir makes a new folder that belongs to the user (mode 0755), in a Public folder: a place
// the user can plant things in.
func (u *User) Dir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Public(t), "theirs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, u.UID, u.GID); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Public makes a new folder of root's that everyone may enter (0755), removed when t ends
// (t.TempDir's folders are 0700: another user cannot reach into them).
func Public(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "mqsql-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Sticky makes a new folder like /tmp: everyone may create files in it, and only remove or
// rename their own (mode 1777).
func Sticky(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Public(t), "tmp")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}
