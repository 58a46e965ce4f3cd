package sendmail

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/mqsql/mqsql"
)

// Driver is Sendmail as mqsql's commands see it (mqsql.Driver): its queue directory from
// sendmail.cf, read once per run.
type Driver struct {
	// Config is the sendmail.cf to read; DefaultConfig when empty.
	Config string
	q      Queues
	dirs   []string
	err    error
	read   bool
}

var (
	_ mqsql.Driver   = (*Driver)(nil)
	_ mqsql.QueueDir = (*Spool)(nil)
)

// binaries are where Debian and upstream install Sendmail's own binary (/usr/sbin/sendmail
// is also Postfix's, so it tells nothing).
var binaries = []string{"/usr/libexec/sendmail/sendmail", "/usr/lib/sm.bin/sendmail"}

// Name implements mqsql.Driver.
func (d *Driver) Name() string { return "sendmail" }

func (d *Driver) config() string {
	if d.Config == "" {
		return DefaultConfig
	}
	return d.Config
}

// Installed reports whether Sendmail (not Postfix's sendmail command) is installed here:
// its configuration and its own binary.
func (d *Driver) Installed() bool {
	if _, err := os.Stat(d.config()); err != nil {
		return false
	}
	return binary() != ""
}

func binary() string {
	for _, b := range binaries {
		if st, err := os.Stat(b); err == nil && st.Mode().IsRegular() {
			return b
		}
	}
	return ""
}

// queues is ReadQueues of the configuration, asked once.
func (d *Driver) queues() (Queues, error) {
	if !d.read {
		d.read = true
		d.q, d.err = ReadQueues(d.config())
		if d.err == nil {
			for _, g := range d.q.Groups {
				d.dirs = append(d.dirs, g.Dirs...)
			}
		}
	}
	return d.q, d.err
}

// queueDirs is every queue directory of the configuration.
func (d *Driver) queueDirs() ([]string, error) {
	_, err := d.queues()
	return d.dirs, err
}

// Locate is the queue directory sendmail.cf declares: its base, which holds (or is) the
// directories of every queue group, all read in one run; DefaultQueueDirectory with the
// warning why when the configuration cannot be read.
func (d *Driver) Locate(ctx context.Context) (string, error) {
	q, err := d.queues()
	if err != nil {
		return DefaultQueueDirectory, err
	}
	return q.Base, nil
}

// groupOf is the name of the queue group dir is a directory of, DefaultGroup when none.
func (d *Driver) groupOf(dir string) string {
	q, err := d.queues()
	if err != nil {
		return DefaultGroup
	}
	for _, g := range q.Groups {
		if containsDir(g.Dirs, dir) {
			return g.Name
		}
	}
	return DefaultGroup
}

// grouped reports whether dir is the configuration's base directory and its queue is more
// than that directory alone (queue groups, q* directories), to be read with OpenGroups.
func (d *Driver) grouped(dir string) bool {
	q, err := d.queues()
	if err != nil || !sameDir(q.Base, dir) {
		return false
	}
	return len(d.dirs) != 1 || !sameDir(d.dirs[0], q.Base)
}

// Check reports whether dir is a Sendmail queue directory: one that sendmail.cf declares, or
// that holds a Sendmail queue file or a qf/ df/ xf/ subdirectory. Any other directory, an
// empty one included, is a *mqsql.NotQueueError, so that a directory named by mistake is
// never read as an empty queue.
func (d *Driver) Check(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return &mqsql.NotQueueError{MTA: "Sendmail", Dir: dir, Err: unwrapPath(err)}
	}
	if !st.IsDir() {
		return &mqsql.NotQueueError{MTA: "Sendmail", Dir: dir, Err: errors.New("not a directory")}
	}
	if dirs, err := d.queueDirs(); (err == nil && containsDir(dirs, dir)) || d.grouped(dir) || isMSPQueue(dir) {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return &mqsql.NotQueueError{MTA: "Sendmail", Dir: dir, Err: unwrapPath(err)}
	}
	for _, e := range ents {
		if _, _, ok := parseName(e.Name()); ok {
			return nil
		}
		if e.IsDir() && (e.Name() == subQF || e.Name() == subDF || e.Name() == subXF) {
			return nil
		}
	}
	return &mqsql.NotQueueError{MTA: "Sendmail", Dir: dir, Missing: []string{"qf"}, Hint: "sendmail.cf's O QueueDirectory"}
}

func containsDir(dirs []string, dir string) bool {
	for _, d := range dirs {
		if sameDir(d, dir) {
			return true
		}
	}
	return false
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// submitConfig is the mail submission program's configuration, whose queue is maildrop.
const submitConfig = "/etc/mail/submit.cf"

// isMSPQueue reports whether dir is the mail submission program's queue: the one submit.cf
// declares, or one named as Debian (mqueue-client) or upstream (clientmqueue) name it.
func isMSPQueue(dir string) bool {
	switch filepath.Base(filepath.Clean(dir)) {
	case "mqueue-client", "clientmqueue":
		return true
	}
	dirs, err := QueueDirectories(submitConfig)
	return err == nil && containsDir(dirs, dir)
}

// Open opens dir, live when it is a queue directory of the Sendmail installed here; the
// MSP's queue is opened with OpenMaildrop.
func (d *Driver) Open(ctx context.Context, dir string, warn func(error)) (mqsql.QueueDir, error) {
	open := Open
	switch {
	case isMSPQueue(dir):
		open = OpenMaildrop
	case d.grouped(dir):
		open = func(string) (*Spool, error) { return OpenGroups(d.q) }
	}
	sp, err := open(dir)
	if err != nil {
		return nil, err
	}
	sp.Warn = warn
	if g := d.groupOf(dir); g != DefaultGroup && len(sp.dirs) == 1 {
		sp.dirs[0].group = g // one directory of a group, named alone
	}
	dirs, err := d.queueDirs()
	if err != nil || !(containsDir(dirs, dir) || d.grouped(dir)) {
		return sp, nil
	}
	if d.Installed() {
		sp.sendmail = []string{binary(), "-C", d.config()}
	}
	return sp, nil
}

// Live reports whether the Sendmail installed here runs on this queue, so that its own
// commands (-Q, -qI) act on it.
func (s *Spool) Live() bool { return s.sendmail != nil }

// Executor is Sendmail's commands (and DELETE under its lock) on a live queue; on any other
// directory DELETE by the same file operations, and nothing else.
func (s *Spool) Executor(includeActive bool) (mqsql.Executor, string) {
	if s.sendmail != nil {
		return &Executor{Spool: s, Sendmail: s.sendmail, IncludeActive: includeActive}, "sendmail"
	}
	return &Executor{Spool: s, IncludeActive: includeActive, Offline: true}, "direct"
}
