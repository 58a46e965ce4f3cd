package index_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// guardOn returns a guard on a session connection of an index of the sample spool.
func guardOn(t *testing.T) *index.Guard {
	t.Helper()
	ctx := context.Background()
	ix := testindex.Memory(t, testspool.Open(t, testspool.Copy(t, testspool.Dir(t, "spool"))))
	conn, err := ix.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	g, err := index.NewGuard(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestClassifyRefusesWhatSQLiteWouldNotRead checks that text SQLite would read only in part
// (a NUL byte, a second statement) is refused before anything is prepared or planned: the
// check on the text and the statement SQLite runs must be about the same SQL.
func TestClassifyRefusesWhatSQLiteWouldNotRead(t *testing.T) {
	g := guardOn(t)
	tests := []struct {
		name, sql, refusal string
	}{
		{"NUL before WHERE", "DELETE FROM messages\x00 WHERE queue_id = 'nonexistent'", "NUL byte at offset 20"},
		{"NUL in a string", "SELECT 'a\x00b'", "NUL byte at offset 9"},
		{"NUL after a read", "SELECT 1\x00; DELETE FROM messages", "NUL byte"},
		{"second statement", "SELECT 1; DELETE FROM messages", "only one statement"},
		{"second write", "DELETE FROM messages WHERE 0; DELETE FROM messages", "only one statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := g.Classify(context.Background(), tt.sql)
			if err == nil {
				st.Close()
				t.Fatalf("Classify(%q) accepted it as kind %v", tt.sql, st.Kind)
			}
			if !errors.Is(err, index.ErrDenied) || !strings.Contains(err.Error(), tt.refusal) {
				t.Errorf("Classify(%q): %v, want ErrDenied saying %q", tt.sql, err, tt.refusal)
			}
		})
	}
}

// TestPlanRunsTheClassifiedStatement checks that one statement, with a final semicolon,
// space or comment after it, is accepted, and that its plan is what it selects.
func TestPlanRunsTheClassifiedStatement(t *testing.T) {
	g := guardOn(t)
	ctx := context.Background()
	for _, sql := range []string{
		"DELETE FROM messages WHERE sender = 'brief-long@x.test'",
		"DELETE FROM messages WHERE sender = 'brief-long@x.test';",
		"DELETE FROM messages WHERE sender = 'brief-long@x.test'; -- the spam run\n",
		"DELETE FROM messages WHERE sender = 'brief-long@x.test' /* ; */ ;;",
	} {
		st, err := g.Classify(ctx, sql)
		if err != nil {
			t.Fatalf("Classify(%q): %v", sql, err)
		}
		actions, err := g.Plan(ctx, st, postfix.Meaning)
		st.Close()
		if err != nil || len(actions) != 2 {
			t.Errorf("Plan(%q): %d actions, %v; want 2", sql, len(actions), err)
		}
	}
}
