package postfix_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// TestCheckQueueDir checks which directories count as a Postfix queue directory: the sample
// spool does; a directory above or inside a queue, an empty one, or one missing a queue does
// not, and the error lists what is missing.
func TestCheckQueueDir(t *testing.T) {
	sample := testspool.Dir(t, "spool")
	partial := t.TempDir()
	for _, q := range []string{"maildrop", "deferred", "hold"} {
		if err := os.Mkdir(filepath.Join(partial, q), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(partial, "active"), nil, 0o600); err != nil { // a file, not a queue
		t.Fatal(err)
	}
	all := postfix.MessageQueues
	tests := []struct {
		dir     string
		missing []string // nil: a queue directory
		other   bool     // not a directory at all
	}{
		{sample, nil, false},
		{filepath.Dir(sample), all, false},
		{filepath.Join(sample, "deferred"), all, false},
		{t.TempDir(), all, false},
		{partial, []string{"incoming", "active"}, false},
		{filepath.Join(partial, "nonexistent"), nil, true},
		{filepath.Join(partial, "active"), nil, true},
	}
	for _, tt := range tests {
		err := postfix.CheckQueueDir(tt.dir)
		var nq *postfix.NotQueueDirError
		switch {
		case tt.missing == nil && !tt.other:
			if err != nil {
				t.Errorf("%s: %v, want a queue directory", tt.dir, err)
			}
		case !errors.As(err, &nq):
			t.Errorf("%s: %v, want a NotQueueDirError", tt.dir, err)
		case !slices.Equal(nq.Missing, tt.missing) || (nq.Err != nil) != tt.other:
			t.Errorf("%s: missing %v (err %v), want %v", tt.dir, nq.Missing, nq.Err, tt.missing)
		}
	}
}
