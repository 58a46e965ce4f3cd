package fleet_test

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mqsql/mqsql/fleet"
)

// fakeConfig reaches the fake hosts of testdata/fakessh, whose mqsql is testdata/bin/mqsql.
func fakeConfig(t *testing.T, hosts ...string) fleet.Config {
	t.Helper()
	ssh, err := filepath.Abs("testdata/fakessh")
	if err != nil {
		t.Fatal(err)
	}
	return fleet.Config{Hosts: hosts, SSH: []string{ssh}, Timeout: 3 * time.Second}
}

func TestRunReasons(t *testing.T) {
	tests := []struct {
		host string
		want fleet.Reason // 0: answered
	}{
		{"a", 0},
		{"down", fleet.Unreachable},
		{"nomqsql", fleet.NoMqsql},
		{"old", fleet.Incompatible},
		{"garbled", fleet.Incompatible},
		{"broken", fleet.Failed},
		{"slow", fleet.Timeout},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			cfg := fakeConfig(t, tt.host)
			cfg.Timeout = 300 * time.Millisecond
			a := fleet.Run(context.Background(), cfg, "SELECT 1")[0]
			if got := fleet.ReasonOf(a.Err); got != tt.want {
				t.Fatalf("reason %v (err %v), want %v", got, a.Err, tt.want)
			}
			var he *fleet.HostError
			if tt.want != 0 && (!errors.As(a.Err, &he) || he.Host != tt.host) {
				t.Fatalf("error %v does not name host %s", a.Err, tt.host)
			}
		})
	}
}

// TestRunKeepsOrderAndOthers: a failing host costs only its own rows, and rows come in the
// order of the hosts, whatever order they answered in.
func TestRunKeepsOrderAndOthers(t *testing.T) {
	answers := fleet.Run(context.Background(), fakeConfig(t, "b", "down", "a"), "SELECT 1")
	cols, rows := fleet.Combine(answers, true)
	wantCols := []string{"host", "sender", "n", "extra", "host_error"}
	if !reflect.DeepEqual(cols, wantCols) {
		t.Fatalf("columns %q, want %q", cols, wantCols)
	}
	want := [][]any{
		{"b", "x@a", int64(3), nil, nil},
		{"down", nil, nil, nil, "unreachable: ssh: connect to host down port 22: Connection refused"},
		{"a", "x@a", int64(2), nil, nil},
		{"a", "y@a", 1.5, nil, nil},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows\n%v\nwant\n%v", rows, want)
	}
	if n := fleet.CountFailed(answers); n != 1 {
		t.Fatalf("%d failed, want 1", n)
	}
	if got := answers[2].Stderr; !reflect.DeepEqual(got, []string{"mqsql: warning: 1 file unreadable"}) {
		t.Fatalf("a's stderr %q", got)
	}
	_, rows = fleet.Combine(answers, false)
	if len(rows) != 3 {
		t.Fatalf("without errors %d rows, want 3", len(rows))
	}
}

// TestQuoting: the statement reaches the host's mqsql as one argument, byte for byte,
// through the host's shell, whatever quotes, dollars and backquotes it holds.
func TestQuoting(t *testing.T) {
	for _, stmt := range []string{
		`SELECT 'it''s' AS "x"`,
		"SELECT '$HOME `id` $(id) \\ ; & | * ?' -- comment",
		"-- leading comment\nSELECT 1",
		"SELECT 'a\nb\tc'",
	} {
		a := fleet.Run(context.Background(), fakeConfig(t, "echo"), stmt)[0]
		if a.Err != nil {
			t.Fatalf("%q: %v", stmt, a.Err)
		}
		got := a.Rows[0]
		want := stmt
		if stmt[0] == '-' {
			want = " " + stmt
		}
		if got[0] != int64(1) || got[1] != hex.EncodeToString([]byte(want)) {
			t.Errorf("host got %v, want one argument %q", got, want)
		}
	}
}

func TestMerge(t *testing.T) {
	answers := fleet.Run(context.Background(), fakeConfig(t, "a", "b", "down"), "SELECT 1")
	cols, rows := fleet.Combine(answers, false)
	mc, mr, err := fleet.Merge(context.Background(), cols, rows,
		"SELECT sender, sum(n) AS n, count(DISTINCT host) AS hosts FROM fleet GROUP BY sender ORDER BY sender")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"sender", "n", "hosts"}; !reflect.DeepEqual(mc, want) {
		t.Fatalf("columns %q, want %q", mc, want)
	}
	want := [][]any{{"x@a", int64(5), int64(2)}, {"y@a", 1.5, int64(1)}}
	if !reflect.DeepEqual(mr, want) {
		t.Fatalf("rows %v, want %v", mr, want)
	}
	if _, _, err := fleet.Merge(context.Background(), cols, rows, "DELETE FROM fleet"); err == nil {
		t.Fatal("a merge statement changed table fleet")
	}
}

func TestParseHosts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(file, []byte("# MX\nmx1.example\n  mx2.example # second\n\nroot@10.0.0.3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec    string
		want    []string
		wantErr bool
	}{
		{"a,b, c", []string{"a", "b", "c"}, false},
		{"@" + file, []string{"mx1.example", "mx2.example", "root@10.0.0.3"}, false},
		{"a,a", nil, true},
		{" , ", nil, true},
		{"@" + file + ".missing", nil, true},
	}
	for _, tt := range tests {
		got, err := fleet.ParseHosts(tt.spec)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseHosts(%q) = %q, %v; want %q, error %v", tt.spec, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSplitCommand(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{"ssh"}},
		{"ssh -F /tmp/my config", []string{"ssh", "-F", "/tmp/my", "config"}},
		{`ssh -F "/tmp/my config" -o 'ControlPath=~/.ssh/%r@%h'`, []string{"ssh", "-F", "/tmp/my config", "-o", "ControlPath=~/.ssh/%r@%h"}},
		{`ssh -i my\ key`, []string{"ssh", "-i", "my key"}},
	}
	for _, tt := range tests {
		got, err := fleet.SplitCommand(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitCommand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := fleet.SplitCommand(`ssh "unterminated`); err == nil {
		t.Error("an unterminated quote was accepted")
	}
}

func TestCommandBatchModeFirst(t *testing.T) {
	cfg := fleet.Config{SSH: []string{"ssh", "-o", "BatchMode=no"}, Remote: []string{"--instance", "all"}}
	got := fleet.Command(cfg, "-oProxyCommand=x", "SELECT 1")
	want := []string{"ssh", "-o", "BatchMode=yes", "-o", "BatchMode=no", "--", "-oProxyCommand=x",
		"'mqsql' '--format' 'jsonl' '--dry-run' '--instance' 'all' 'SELECT 1'"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Command = %q\nwant %q", got, want)
	}
}

func TestCheckRead(t *testing.T) {
	tests := []struct {
		stmt string
		ok   bool
	}{
		{"SELECT * FROM messages", true},
		{"SELECT replace(sender, 'a', 'b') FROM messages", true},
		{"SELECT m.sender FROM messages m", true},
		{"SELECT 'DELETE' FROM messages -- UPDATE", true},
		{"DELETE FROM messages WHERE sender = 'x'", false},
		{"  update messages SET queue = 'hold'", false},
		{"WITH x AS (SELECT 1) DELETE FROM messages", false},
		{".cat 4jc7PP1W6fzdXSJ", false},
	}
	for _, tt := range tests {
		err := fleet.CheckRead(tt.stmt)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, fleet.ErrNotRead)) {
			t.Errorf("CheckRead(%q) = %v, want ok %v", tt.stmt, err, tt.ok)
		}
	}
}

// TestReadOnlyArgs: what Command sends passes; anything else a key holder could send is
// refused, however it is quoted.
func TestReadOnlyArgs(t *testing.T) {
	sent := fleet.Command(fleet.Config{}, "h", "SELECT 'it''s; rm -rf /' FROM messages")
	args, err := fleet.ReadOnlyArgs(sent[len(sent)-1])
	want := []string{"--format", "jsonl", "--dry-run", "SELECT 'it''s; rm -rf /' FROM messages"}
	if err != nil || !reflect.DeepEqual(args, want) {
		t.Fatalf("ReadOnlyArgs(%q) = %q, %v; want %q", sent[len(sent)-1], args, err, want)
	}
	for _, line := range []string{
		"rm -rf /",
		"mqsql",
		"'mqsql' '--format' 'jsonl' 'SELECT 1'",
		"'mqsql' '--format' 'jsonl' '--dry-run' '--yes' 'SELECT 1'",
		"'mqsql' '--format' 'jsonl' '--dry-run' 'DELETE FROM messages'",
		"'mqsql' '--format' 'jsonl' '--dry-run' '.output /etc/passwd'",
		"'mqsql' '--format' 'jsonl' '--dry-run' 'SELECT 1' 'SELECT 2'",
		"'mqsql' '--format' 'jsonl' '--dry-run' 'SELECT 1'; rm -rf /",
		"/tmp/evil/mqsqlx '--format' 'jsonl' '--dry-run' 'SELECT 1'",
	} {
		if args, err := fleet.ReadOnlyArgs(line); err == nil {
			t.Errorf("ReadOnlyArgs(%q) = %q, want refused", line, args)
		}
	}
}
