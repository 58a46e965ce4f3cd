package postfix_test

import (
	"testing"

	"github.com/mqsql/mqsql/internal/failclosed"
	"github.com/mqsql/mqsql/internal/testspool"
)

// TestUnreadableKeepsRows runs the sample spool out of file descriptors: its walks (the
// one that takes the defer logs' stamps too), Stat, and the index's Sync and Reconcile over it
// report what they could not read and keep every row (internal/failclosed).
func TestUnreadableKeepsRows(t *testing.T) {
	failclosed.Check(t, testspool.Open(t, testspool.Dir(t, "spool")))
}
