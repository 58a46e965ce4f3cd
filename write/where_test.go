package write_test

import (
	"testing"

	"github.com/mqsql/mqsql/write"
)

func TestHasWhere(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{"DELETE FROM messages", false},
		{"DELETE FROM messages WHERE sender = 'x'", true},
		{"delete from messages where 1", true},
		{"UPDATE messages SET queue = 'hold'", false},
		{"UPDATE messages SET queue = 'hold' WHERE queue = 'deferred'", true},
		{"WITH x AS (SELECT queue_id FROM messages WHERE sender = 'a') DELETE FROM messages", false},
		{"WITH x AS (SELECT queue_id FROM messages WHERE sender = 'a') DELETE FROM messages WHERE queue_id IN x", true},
		{"DELETE FROM messages -- WHERE sender = 'x'", false},
		{"DELETE FROM messages /* WHERE */", false},
		{"DELETE FROM \"messages where\"", false},
		{"DELETE FROM messages WHERE subject = 'it''s'", true},
		{"UPDATE messages SET queue = (SELECT 'hold' WHERE 1)", false},
	}
	for _, tt := range tests {
		if got := write.HasWhere(tt.sql); got != tt.want {
			t.Errorf("HasWhere(%q) = %v, want %v", tt.sql, got, tt.want)
		}
	}
}

// TestWhereNamesTarget checks which WHERE clauses can tell the target rows apart: those that
// name a column of messages bare at the top level, or qualified with the target's name or
// alias anywhere.
func TestWhereNamesTarget(t *testing.T) {
	cols := []string{"queue_id", "queue", "sender", "arrival_time"}
	tests := []struct {
		sql  string
		want bool
	}{
		{"DELETE FROM messages WHERE sender = 'x'", true},
		{"DELETE FROM messages WHERE (Sender = 'x')", true},
		{`DELETE FROM messages WHERE "sender" = 'x'`, true},
		{"DELETE FROM messages WHERE age(arrival_time) > 3600", true},
		{"DELETE FROM messages WHERE 1", false},
		{"DELETE FROM messages WHERE 'sender' = 'sender'", false},
		{"DELETE FROM messages WHERE EXISTS (SELECT 1 FROM recipients WHERE domain = 'x')", false},
		{"DELETE FROM messages WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.queue_id = messages.queue_id)", true},
		{"DELETE FROM main.messages AS m WHERE EXISTS (SELECT 1 FROM recipients r WHERE r.queue_id = m.queue_id)", true},
		{"DELETE FROM messages WHERE main.messages.sender = 'x'", true},
		{"DELETE FROM messages WHERE queue_id IN (SELECT queue_id FROM recipients)", true},
		{"DELETE FROM messages WHERE 1 IN (SELECT sender FROM messages)", false},
		{"UPDATE messages SET queue = 'hold' FROM messages AS m2 WHERE m2.sender = 'x@y'", false},
		{"UPDATE messages SET queue = 'hold' FROM messages AS m2 WHERE m2.sender = messages.sender", true},
		{"UPDATE OR IGNORE messages AS m SET queue = 'hold' WHERE m.queue = 'deferred'", true},
		{"UPDATE messages SET queue = 'hold' WHERE 1 -- sender = 'x'", false},
		{"UPDATE messages SET queue = 'hold'", false},
		{"WITH x AS (SELECT sender FROM messages) DELETE FROM messages WHERE 1", false},
	}
	for _, tt := range tests {
		if got := write.WhereNamesTarget(tt.sql, cols); got != tt.want {
			t.Errorf("WhereNamesTarget(%q) = %v, want %v", tt.sql, got, tt.want)
		}
	}
}
