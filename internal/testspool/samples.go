package testspool

import (
	"path/filepath"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool/exim"
	"github.com/mqsql/mqsql/spool/sendmail"
)

// Sample is one MTA's sample spool, for the tests every MTA must pass: index, shell, SQL
// functions, write path and metrics run against each of Samples.
type Sample struct {
	// MTA names the driver, as --mta does: "postfix", "sendmail", "exim".
	MTA string
	// Rel is the sample tree, relative to the module.
	Rel  string
	open func(t testing.TB, dir string) mqsql.QueueDir
}

// Samples are the real queues in testdata: Postfix 3.7's (testdata/spool), Sendmail 8.17's
// (testdata/sendmail/mqueue: qf, a quarantined hf, a lost Qf) and Exim 4.96's
// (spool/exim/testdata/exim/spool: input/, msglog/ and the named queue slowq/).
func Samples() []Sample {
	return []Sample{
		{MTA: "postfix", Rel: "testdata/spool", open: func(t testing.TB, dir string) mqsql.QueueDir { return Open(t, dir) }},
		{MTA: "sendmail", Rel: "testdata/sendmail/mqueue", open: openSendmail},
		{MTA: "exim", Rel: "spool/exim/testdata/exim/spool", open: openExim},
	}
}

// Copy copies the sample into a new temporary directory (see the package Copy) and returns
// its path.
func (s Sample) Copy(t testing.TB) string {
	t.Helper()
	return Copy(t, filepath.Join(Dir(t, ".."), s.Rel))
}

// Open opens the sample tree copied to dir with its driver (offline: no MTA's command acts
// on it) and closes it when the test ends.
func (s Sample) Open(t testing.TB, dir string) mqsql.QueueDir {
	t.Helper()
	return s.open(t, dir)
}

// OpenCopy is Open on a new Copy.
func (s Sample) OpenCopy(t testing.TB) mqsql.QueueDir {
	t.Helper()
	return s.Open(t, s.Copy(t))
}

func openSendmail(t testing.TB, dir string) mqsql.QueueDir {
	t.Helper()
	sp, err := sendmail.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sp.Warn = func(err error) { t.Logf("sendmail: warning: %v", err) }
	t.Cleanup(func() { sp.Close() })
	return sp
}

func openExim(t testing.TB, dir string) mqsql.QueueDir {
	t.Helper()
	sp, err := exim.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	sp.Warn = func(err error) { t.Logf("exim: warning: %v", err) }
	t.Cleanup(func() { sp.Close() })
	return sp
}
