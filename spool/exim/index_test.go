package exim_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/internal/testindex"
)

// TestIndexOfSampleSpool builds mqsql's index from the sample Exim spool through the driver
// and records what a query of the messages table sees.
func TestIndexOfSampleSpool(t *testing.T) {
	ix := testindex.Memory(t, openSpool(t, "testdata/exim/spool"))
	rows, err := ix.DB().Query(`SELECT queue_id, queue, sender, size FROM messages ORDER BY queue_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, queue, sender string
		var size int64
		if err := rows.Scan(&id, &queue, &sender, &size); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s|%s|%s|%d\n", id, queue, sender, size)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "index-messages", []byte(b.String()))
}
