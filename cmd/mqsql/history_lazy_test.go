package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql/internal/testspool"
	_ "modernc.org/sqlite"
)

// TestHistoryReadOnlyWhenAsked: a one-shot run reads the mail log only when one of its
// statements reads the delivery history (a table, or a view through count(*), which names no
// column), so a query about the queue never pays for a busy log.
func TestHistoryReadOnlyWhenAsked(t *testing.T) {
	spool := testspool.Copy(t, filepath.Join("..", "..", "spool", "exim", "testdata", "exim", "spool"))
	mainlog := filepath.Join(t.TempDir(), "mainlog")
	data := []byte("2026-12-01 19:53:08.658 [582] 1xYTuW-00009O-26 <= alice@mqsql.test U=root P=local S=344 id=plain-1@mqsql.test\n" +
		"2026-12-01 19:53:09.120 [590] 1xYTuW-00009O-26 => bob <bob@local.test> R=local T=local_delivery\n")
	if err := os.WriteFile(mainlog, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "h.db")
	for _, step := range []struct {
		sql       string
		positions int
	}{
		{"SELECT count(*) FROM messages", 0},
		{"SELECT sender, count(*) FROM messages GROUP BY sender", 0},
		{"SELECT count(*) FROM delivered", 1},
	} {
		r := runMQSQL(t, "", "--mta", "exim", "--spool", spool, "--db", db, "--log", mainlog, "--history-days", "7", "--format", "csv", step.sql)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", step.sql, r.code, r.stderr)
		}
		if got := logPositions(t, db); got != step.positions {
			t.Errorf("after %q: %d log files read, want %d", step.sql, got, step.positions)
		}
	}
}

// logPositions counts the log files the index records as read.
func logPositions(t *testing.T, db string) int {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRowContext(context.Background(), "SELECT count(*) FROM log_positions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
