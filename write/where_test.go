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
