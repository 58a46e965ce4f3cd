package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
)

// TestNullSenderExact plants a file whose sender cannot be read in each MTA's sample queue:
// its sender is NULL, not the empty string, so sender = "" still counts only the null sender's mail, and
// every NULL sender is a row with its error.
func TestNullSenderExact(t *testing.T) {
	for _, tc := range []struct {
		mta, dir string
		damaged  map[string]string // file -> content
	}{
		{"postfix", filepath.Join("..", "..", "testdata", "spool"), map[string]string{"deferred/D/4jc7ZZZZZZzdZZZ": "junk, not records\n"}},
		{"sendmail", filepath.Join("..", "..", "testdata", "sendmail", "mqueue"), map[string]string{"qf6B1Jzz00000001": "V8\nT1765000000\n.\n", "df6B1Jzz00000001": "body\n"}},
		{"exim", filepath.Join("..", "..", "spool", "exim", "testdata", "exim", "spool"), map[string]string{"input/1xYTzz-0000ZZ-0Z-H": "1xYTzz-0000ZZ-0Z-H\njunk\n", "input/1xYTzz-0000ZZ-0Z-D": "1xYTzz-0000ZZ-0Z-D\nbody\n"}},
	} {
		t.Run(tc.mta, func(t *testing.T) {
			dir := testspool.Copy(t, tc.dir)
			count := func(where string) string {
				r := runMQSQL(t, "", "--no-cache", "--mta", tc.mta, "--spool", dir, "--header=false", "SELECT count(*) FROM messages WHERE "+where)
				if r.code != exitOK {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				return strings.TrimSpace(r.stdout)
			}
			before := count("sender = ''")
			for name, content := range tc.damaged {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if got := count("sender = ''"); got != before {
				t.Errorf("sender = '' counts %s with a damaged file, %s without", got, before)
			}
			if got := count("sender IS NULL AND error IS NOT NULL"); got == "0" {
				t.Errorf("the damaged file's sender is not NULL")
			}
			if got := count("sender IS NULL AND error IS NULL"); got != "0" {
				t.Errorf("%s rows read cleanly have a NULL sender", got)
			}
		})
	}
}
