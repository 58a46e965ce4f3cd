package sqlfuncs_test

import (
	"testing"

	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestMessageFunctionsOnEveryMTA runs header(), body() and postcat() over every message of
// each MTA's sample spool, through the index as mqsql queries it: each readable message has
// a body and a postcat, header() finds the Message-ID its row has, and a queue ID the spool
// does not hold gives NULL.
func TestMessageFunctionsOnEveryMTA(t *testing.T) {
	for _, s := range testspool.Samples() {
		t.Run(s.MTA, func(t *testing.T) {
			db := testindex.Memory(t, s.OpenCopy(t)).DB()
			var readable, bodies, catted, ids, idsAgree int
			err := db.QueryRow(`SELECT count(*), count(body(queue_id)), count(nullif(postcat(queue_id), '')),
					(SELECT count(*) FROM messages WHERE message_id IS NOT NULL AND queue <> 'corrupt'),
					(SELECT count(*) FROM messages WHERE message_id IS NOT NULL AND queue <> 'corrupt'
						AND header(queue_id, 'Message-ID') = message_id)
				FROM messages WHERE queue <> 'corrupt' AND error IS NULL`).Scan(&readable, &bodies, &catted, &ids, &idsAgree)
			if err != nil {
				t.Fatal(err)
			}
			if readable == 0 || bodies != readable || catted != readable {
				t.Errorf("%d readable messages, %d bodies, %d postcats", readable, bodies, catted)
			}
			if ids == 0 || idsAgree != ids {
				t.Errorf("header(queue_id, 'Message-ID') equals message_id for %d of %d messages", idsAgree, ids)
			}
			var missing any
			if err := db.QueryRow(`SELECT header('0000000000', 'Subject')`).Scan(&missing); err != nil || missing != nil {
				t.Errorf("header of a queue ID not in the spool: %v, %v; want NULL", missing, err)
			}
		})
	}
}
