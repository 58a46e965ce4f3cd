package sendmail_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mqsql/mqsql/spool/sendmail"
)

// TestQueueDirectories reads the queue directories of a sendmail.cf: the option, queue groups'
// paths and q* wildcards; the default when none is named.
func TestQueueDirectories(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"mqueue/q1", "mqueue/q2", "mqueue/qfile", "bulk"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "mqueue", "qx"), nil, 0o600); err != nil { // a file, not a queue
		t.Fatal(err)
	}
	tests := []struct {
		name, cf string
		want     []string
	}{
		{"option", "O QueueDirectory=" + dir + "/mqueue\nO QueueFileMode=0640\n", []string{dir + "/mqueue"}},
		{"wildcard and group", "O QueueDirectory=" + dir + "/mqueue/q*\nQbulk, P=" + dir + "/bulk, F=f, N=2\nQmqueue, P=" + dir + "/mqueue/q*\n",
			[]string{dir + "/bulk", dir + "/mqueue/q1", dir + "/mqueue/q2", dir + "/mqueue/qfile"}},
		{"none", "# no queue here\nO Timeout.queuereturn=5d\n", []string{sendmail.DefaultQueueDirectory}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cf := filepath.Join(dir, tt.name+".cf")
			if err := os.WriteFile(cf, []byte(tt.cf), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := sendmail.QueueDirectories(cf)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("QueueDirectories = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	if _, err := sendmail.QueueDirectories(filepath.Join(dir, "missing.cf")); err == nil {
		t.Error("a missing configuration is no error")
	}
}
