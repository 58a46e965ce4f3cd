package exim_test

import (
	"testing"

	"github.com/mqsql/mqsql/internal/failclosed"
)

// TestUnreadableKeepsRows runs the sample spool out of file descriptors: its walks, Stat,
// and the index's Sync and Reconcile over it report what they could not read and keep every
// row (internal/failclosed).
func TestUnreadableKeepsRows(t *testing.T) {
	sp := openSpool(t, "testdata/exim/spool")
	sp.Warn = func(err error) { t.Logf("warning: %v", err) }
	failclosed.Check(t, sp)
}
