package main

import (
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
	_ "modernc.org/sqlite"
)

// nobody is a user id that is not root's, to own files as another user would.
const nobody = 65534

// fileState is what a refusal must leave as it was: type, mode, owner and bytes (or names, for
// a directory).
func fileState(t *testing.T, path string) string {
	t.Helper()
	st, err := os.Lstat(path)
	if os.IsNotExist(err) {
		return "missing"
	}
	if err != nil {
		t.Fatal(err)
	}
	state := fmt.Sprintf("%v uid %d", st.Mode(), st.Sys().(*syscall.Stat_t).Uid)
	switch {
	case st.Mode().IsRegular():
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		state += fmt.Sprintf(" %d bytes sha256 %x", len(b), sha256.Sum256(b))
	case st.IsDir():
		state += " holding " + dirNames(t, path)
	}
	return state
}

// foreignDB creates an SQLite database another program would own, with a customers table.
func foreignDB(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO customers (name) VALUES ('ACME')"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFileAs(t *testing.T, path, data string, mode os.FileMode, uid int) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(data), mode))
	must(t, os.Chmod(path, mode))
	must(t, os.Chown(path, uid, 0))
}

// TestDBRefusesWhatIsNotItsOwn gives --db links, another user's file and another program's
// database: each is refused with an error that names it, and left byte for byte as it was,
// as is whatever a link points at.
func TestDBRefusesWhatIsNotItsOwn(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	tests := []struct {
		name    string
		plant   func(t *testing.T, tmp string) // creates tmp/idx.db and what it needs
		watch   string                         // a file under tmp that must not change
		message []string
	}{
		{"dangling link", func(t *testing.T, tmp string) {
			must(t, os.Symlink(filepath.Join(tmp, "target"), filepath.Join(tmp, "idx.db")))
		}, "target", []string{"idx.db", "symbolic link"}},
		{"link to a file", func(t *testing.T, tmp string) {
			writeFileAs(t, filepath.Join(tmp, "target"), "", 0o644, 0)
			must(t, os.Symlink(filepath.Join(tmp, "target"), filepath.Join(tmp, "idx.db")))
		}, "target", []string{"idx.db", "symbolic link"}},
		{"another program's database", func(t *testing.T, tmp string) {
			foreignDB(t, filepath.Join(tmp, "idx.db"))
		}, "idx.db", []string{"idx.db", "not an mqsql index", "customers"}},
		{"another user's file", func(t *testing.T, tmp string) {
			writeFileAs(t, filepath.Join(tmp, "idx.db"), "", 0o666, nobody)
		}, "idx.db", []string{"idx.db", "owned by uid 65534"}},
		{"link planted as the WAL", func(t *testing.T, tmp string) {
			must(t, os.Symlink(filepath.Join(tmp, "target"), filepath.Join(tmp, "idx.db-wal")))
		}, "target", []string{"idx.db-wal", "symbolic link"}},
		{"a directory anyone may add files to", func(t *testing.T, tmp string) {
			must(t, os.Chmod(tmp, os.ModeSticky|0o777))
		}, "idx.db", []string{"idx.db-wal", "lets other users create files"}},
		{"another user's WAL", func(t *testing.T, tmp string) {
			writeFileAs(t, filepath.Join(tmp, "idx.db-wal"), "", 0o666, nobody)
		}, "idx.db-wal", []string{"idx.db-wal", "owned by uid 65534"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			tt.plant(t, tmp)
			before, entries := fileState(t, filepath.Join(tmp, tt.watch)), dirNames(t, tmp)
			r := runMQSQL(t, "", "--spool", dir, "--db", filepath.Join(tmp, "idx.db"), "SELECT count(*) FROM messages")
			if r.code != exitError || r.stdout != "" {
				t.Errorf("exit %d, stdout %q; want a refusal", r.code, r.stdout)
			}
			for _, m := range tt.message {
				if !strings.Contains(r.stderr, m) {
					t.Errorf("stderr %q does not say %q", r.stderr, m)
				}
			}
			if after := fileState(t, filepath.Join(tmp, tt.watch)); after != before {
				t.Errorf("%s changed:\n%q\nwas\n%q", tt.watch, after, before)
			}
			if after := dirNames(t, tmp); after != entries {
				t.Errorf("directory now holds %s, before %s", after, entries)
			}
		})
	}
}

func dirNames(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

// TestDBOwnFilesKept checks what --db still accepts: an empty file of the caller's that others
// could read is made private and used, and an index of an older mqsql schema is rebuilt.
func TestDBOwnFilesKept(t *testing.T) {
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	db := filepath.Join(t.TempDir(), "idx.db")
	writeFileAs(t, db, "", 0o666, 0)
	count := func() runResult {
		return runMQSQL(t, "", "--spool", dir, "--db", db, "SELECT count(*) FROM messages")
	}
	if r := count(); r.code != 0 || !strings.Contains(r.stdout, "18") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	checkPrivate(t, db, 0o600)
	old, err := sql.Open("sqlite", db)
	must(t, err)
	_, err = old.Exec("PRAGMA user_version = 1; DROP VIEW senders")
	old.Close()
	must(t, err)
	if r := count(); r.code != 0 || !strings.Contains(r.stdout, "18") {
		t.Fatalf("older schema: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
