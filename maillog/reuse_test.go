package maillog_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql/spool/postfix"
)

// TestReusedQueueID: Postfix reuses short queue IDs. A line about an ID after its message was
// removed starts a new log_messages row, in the same batch and across two reads.
func TestReusedQueueID(t *testing.T) {
	first := "Dec 07 10:00:00 mx postfix/qmgr[1]: 3F2A1B: from=<old@a.example>, size=10, nrcpt=1 (queue active)\n" +
		"Dec 07 10:00:01 mx postfix/qmgr[1]: 3F2A1B: removed\n"
	second := "Dec 07 11:00:00 mx postfix/smtpd[2]: 3F2A1B: client=unknown[192.0.2.9]\n" +
		"Dec 07 11:00:00 mx postfix/qmgr[1]: 3F2A1B: from=<new@a.example>, size=20, nrcpt=2 (queue active)\n"
	for _, split := range []bool{false, true} {
		r, ix := newReader(t, &postfix.Driver{})
		log := filepath.Join(t.TempDir(), "mail.log")
		parts := []string{first + second}
		if split {
			parts = []string{first, second}
		}
		for _, p := range parts {
			appendTo(t, log, []byte(p))
			if _, err := r.ReadFiles(context.Background(), []string{log}); err != nil {
				t.Fatal(err)
			}
		}
		var sender, client string
		var size, removed int
		if err := ix.DB().QueryRow(`SELECT sender, size, client_address, removed IS NOT NULL FROM log_messages`).Scan(&sender, &size, &client, &removed); err != nil {
			t.Fatal(err)
		}
		if sender != "new@a.example" || size != 20 || client != "192.0.2.9" || removed != 0 {
			t.Errorf("split %v: sender %q size %d client %q removed %d; want the new message's, not removed", split, sender, size, client, removed)
		}
	}
}
