package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestBackupRefusesLinks gives the backup base as a link and as another user's folder, and
// plants an audit.log link: nothing is deleted without its backup, and nothing outside is
// changed, chmod'ed or appended to.
func TestBackupRefusesLinks(t *testing.T) {
	const del = "DELETE FROM messages WHERE sender = 'brief-long@x.test'"
	tests := []struct {
		name    string
		plant   func(t *testing.T, tmp string) (base, watch string)
		deletes bool // the delete goes ahead (only the audit record is refused)
		message string
	}{
		{"linked base", func(t *testing.T, tmp string) (string, string) {
			must(t, os.Mkdir(filepath.Join(tmp, "elsewhere"), 0o755))
			must(t, os.Chmod(filepath.Join(tmp, "elsewhere"), 0o755))
			must(t, os.Symlink(filepath.Join(tmp, "elsewhere"), filepath.Join(tmp, "base")))
			return filepath.Join(tmp, "base"), filepath.Join(tmp, "elsewhere")
		}, false, "symbolic link"},
		{"another user's base", func(t *testing.T, tmp string) (string, string) {
			must(t, os.Mkdir(filepath.Join(tmp, "base"), 0o755))
			must(t, os.Chown(filepath.Join(tmp, "base"), nobody, nobody))
			return filepath.Join(tmp, "base"), filepath.Join(tmp, "base")
		}, false, "owned by uid 65534"},
		{"linked audit log", func(t *testing.T, tmp string) (string, string) {
			must(t, os.Mkdir(filepath.Join(tmp, "base"), 0o700))
			writeFileAs(t, filepath.Join(tmp, "victim"), "do not append\n", 0o644, 0)
			must(t, os.Symlink(filepath.Join(tmp, "victim"), filepath.Join(tmp, "base", mqsql.AuditName)))
			return filepath.Join(tmp, "base"), filepath.Join(tmp, "victim")
		}, true, "symbolic link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testspool.Copy(t, testspool.Dir(t, "spool"))
			spoolBefore := treeHash(t, dir)
			base, watch := tt.plant(t, t.TempDir())
			before := fileState(t, watch)
			r := runMQSQL(t, "", "--spool", dir, "--backup", base, "--yes", del)
			if !strings.Contains(r.stderr, tt.message) {
				t.Errorf("exit %d, stderr %q does not say %q", r.code, r.stderr, tt.message)
			}
			if deleted := treeHash(t, dir) != spoolBefore; deleted != tt.deletes {
				t.Errorf("spool changed: %v, want %v\n%s", deleted, tt.deletes, r.stdout)
			}
			if after := fileState(t, watch); after != before {
				t.Errorf("%s changed:\n%q\nwas\n%q", watch, after, before)
			}
		})
	}
}
