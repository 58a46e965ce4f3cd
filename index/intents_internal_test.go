package index

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
)

// TestIntentsExplainEvents records intents as a write statement or restore does, then the
// events a watcher would record, one refresh each, and checks which event says why: mail that
// came and went between two looks (size NULL) still carries its intent, a requeue's intent
// explains the old ID's events and then the new file's arrival with the same log_ident (and
// nothing after), and a restore's intent explains its copy in maildrop and the new ID, even
// when the delete before it is seen late.
func TestIntentsExplainEvents(t *testing.T) {
	at := time.Unix(1796160000, 0)
	left := func(id string) change { return change{at: at, queueID: id, kind: EventLeft, from: "deferred"} }
	cameAndWent := change{at: at, queueID: "A1", kind: EventLeft, from: "active", unknown: true}
	arrived := func(id, queue string) change { return change{at: at, queueID: id, kind: EventArrived, to: queue} }
	moved := change{at: at, queueID: "R1", kind: EventMoved, from: "deferred", to: "maildrop"}
	leftMaildrop := change{at: at, queueID: "X1", kind: EventLeft, from: "maildrop"}
	tests := []struct {
		name    string
		files   map[string]string // queue ID -> log_ident of its indexed file
		intents []mqsql.Intent
		refresh []change
		want    string // one line per event: queue_id|reason|audit_id
	}{
		{name: "came and went with an intent", intents: []mqsql.Intent{{QueueID: "A1", Reason: "deleted by mqsql"}},
			refresh: []change{cameAndWent}, want: "A1|deleted by mqsql|AUD"},
		{name: "came and went without one", intents: []mqsql.Intent{{QueueID: "B1", Reason: "deleted by mqsql"}},
			refresh: []change{cameAndWent}, want: "A1|-|-"},
		{name: "an intent explains one event", intents: []mqsql.Intent{{QueueID: "D1", Reason: "deleted by mqsql"}},
			refresh: []change{left("D1"), arrived("D1", "deferred")}, want: "D1|deleted by mqsql|AUD\nD1|-|-"},
		{name: "requeue: old ID, then the new one", files: map[string]string{"R1": "L1", "N1": "L1"},
			intents: []mqsql.Intent{{QueueID: "R1", Reason: "requeued by mqsql", Reappears: true}},
			refresh: []change{moved, left("R1"), arrived("N1", "incoming"), arrived("N2", "incoming")},
			want:    "R1|requeued by mqsql|AUD\nR1|requeued by mqsql|AUD\nN1|requeued by mqsql|AUD\nN2|-|-"},
		{name: "requeue of mail without log_ident", files: map[string]string{"R1": "", "N1": ""},
			intents: []mqsql.Intent{{QueueID: "R1", Reason: "requeued by mqsql", Reappears: true}},
			refresh: []change{moved, arrived("N1", "incoming")}, want: "R1|requeued by mqsql|AUD\nN1|-|-"},
		{name: "restore: maildrop copy, then the new ID", files: map[string]string{"X1": "L9", "N1": "L9", "N2": "L9"},
			intents: []mqsql.Intent{{Reason: "restored by mqsql", Reappears: true, LogIdent: "L9"}},
			refresh: []change{arrived("X1", "maildrop"), leftMaildrop, arrived("N1", "incoming"), arrived("N2", "deferred")},
			want:    "X1|restored by mqsql|AUD\nX1|restored by mqsql|AUD\nN1|restored by mqsql|AUD\nN2|-|-"},
		{name: "restore before the watcher saw the delete", files: map[string]string{"X1": "L9", "N1": "L9"},
			intents: []mqsql.Intent{{QueueID: "X1", Reason: "deleted by mqsql"}, {Reason: "restored by mqsql", Reappears: true, LogIdent: "L9"}},
			refresh: []change{left("X1"), arrived("X1", "maildrop"), leftMaildrop, arrived("N1", "incoming")},
			want:    "X1|deleted by mqsql|AUD\nX1|restored by mqsql|AUD\nX1|restored by mqsql|AUD\nN1|restored by mqsql|AUD"},
		{name: "no arrival is explained by a delete's log_ident", files: map[string]string{"D1": "L5", "N1": "L5"},
			intents: []mqsql.Intent{{QueueID: "D1", Reason: "deleted by mqsql"}},
			refresh: []change{arrived("N1", "incoming")}, want: "N1|-|-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ix, err := Open(ctx, "", WithClock(mqsql.FixedClock(at)))
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			for id, ident := range tt.files {
				indexFile(t, ix.db, id, ident)
			}
			if err := ix.RecordIntents(ctx, "AUD", tt.intents); err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.refresh {
				refreshWith(t, ix.db, c)
			}
			if got := eventReasons(t, ix.db); got != tt.want {
				t.Errorf("events:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// indexFile adds a queue_files row for id with the given log_ident ("" = none).
func indexFile(t *testing.T, db *sql.DB, id, ident string) {
	t.Helper()
	_, err := db.Exec(`INSERT INTO queue_files (queue_id, queue, arrival_time, size, sender, forced_expire, recipient_count,
		next_attempt, file_size, inode, path, mode, mtime_ns, log_ident) VALUES (?, 'deferred', 0, 1, '', 0, 1, 0, 1, 1, ?, 0, 0, ?)`,
		id, "deferred/"+id, null(ident))
	if err != nil {
		t.Fatal(err)
	}
}

// refreshWith records one change as one refresh transaction does.
func refreshWith(t *testing.T, db *sql.DB, c change) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := insertEvents(context.Background(), tx, []change{c}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func eventReasons(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT queue_id, coalesce(reason, '-'), coalesce(audit_id, '-') FROM events ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, reason, audit string
		if err := rows.Scan(&id, &reason, &audit); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, id+"|"+reason+"|"+audit)
	}
	return strings.Join(lines, "\n")
}
