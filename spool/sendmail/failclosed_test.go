package sendmail_test

import (
	"testing"

	"github.com/mqsql/mqsql/internal/failclosed"
)

// TestUnreadableKeepsRows runs the sample queue out of file descriptors: its walks, Stat,
// and the index's Sync and Reconcile over it report what they could not read and keep every
// row (internal/failclosed).
func TestUnreadableKeepsRows(t *testing.T) {
	failclosed.Check(t, open(t, samples+"/mqueue"))
}
