package shell_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/golden"
	"github.com/mqsql/mqsql/shell"
)

// TestREPLTranscripts types scripts into the REPL and compares what the terminal shows
// (prompts, input, results, errors) with golden files in testdata.
func TestREPLTranscripts(t *testing.T) {
	dir := testSpool(t)
	const ages = `
SELECT now() AS now, age(arrival_time) AS age, ago(arrival_time) AS ago FROM messages WHERE queue_id = '4jcHOST1LEz5xx1';
SELECT queue, total, "5", "320", "640", "1280", "1280+" FROM qshape WHERE domain = 'TOTAL' AND queue IN ('deferred', 'hold');
SELECT queue, domain, total, "640", "1280+" FROM qshape_senders WHERE queue = 'deferred' AND domain <> 'TOTAL';
`
	tests := []struct {
		name   string
		script string
		now    time.Time // the session's clock; zero: goldenTime
	}{
		// Ages come from the session's clock, never the day the test runs: the same mail
		// read now and ten years on.
		{name: "ages", script: ages},
		{name: "ages-years-ahead", script: ages, now: goldenTime.AddDate(10, 0, 0)},
		{name: "statements", script: `
SELECT queue, count(*) AS n
FROM messages
-- a comment inside
WHERE queue <> 'corrupt' GROUP BY queue ORDER BY queue;
SELECT 1 AS one; SELECT 'a;b' AS semicolon_in_string;
SELECT 2 AS two; SELECT 3
AS three;
SELECT nope FROM nowhere;
/* a comment
spanning lines */ SELECT 4 AS four;
`},
		{name: "modes", script: `
.mode
.nullvalue (null)
SELECT queue_id, subject, from_header, sasl_username FROM messages WHERE queue = 'hold' ORDER BY queue_id;
.mode line
SELECT queue_id, subject, from_header FROM messages WHERE queue_id = '4jcHOST1LEz5xx1';
.mode markdown
SELECT queue_id, subject FROM messages WHERE queue_id = '4jcHOST1LEz5xx1';
.mode list
SELECT queue_id, subject FROM messages WHERE queue_id = '4jcHOST1LEz5xx1';
.mode json
SELECT queue_id, subject, sasl_username FROM messages WHERE queue_id = '4jcHOST1LEz5xx1';
.mode jsonl
SELECT queue_id, recipient_count FROM messages WHERE queue = 'hold' ORDER BY queue_id;
.mode tsv
SELECT queue_id, subject FROM messages WHERE queue_id = '4jcHOST1LEz5xx1';
.mode csv
.headers off
SELECT queue_id, size FROM messages WHERE queue = 'hold' ORDER BY queue_id;
.mode xml
.mode table
SELECT header('4jcHOST1LEz5xx1', 'X-Mailer') AS mailer, body('4jcHOST1LEz5xx1') AS body;
`},
		{name: "commands", script: `
.show
.tables
.tables q%
CREATE TEMP TABLE scratch AS SELECT 1;
.tables s%
.schema reasons
.separator " ; "
.mode list
.headers on
SELECT 1 AS a, 2 AS b;
.sch senders
.nope
.mode a b
.bail maybe
.rescan
.status
.help mode
help
.cat
.cat not-an-id
.cat 4jcGONE1LEz5xx1
.cat -x 4jc7PP1W6fzdXSJ
.cat -hb 4jcHOST1LEz5xx1 4jc7PP1W6fzdXSJ
SELECT queue, domain, total, "5", "1280+" FROM qshape WHERE queue = 'hold';
SELECT reason, messages, recipients, domains FROM reasons;
SELECT sender, messages, recipients, bytes FROM senders LIMIT 3;
quit
SELECT 'not reached';
`},
		{name: "interrupt", script: `
SELECT 1,
^C
SELECT 'after Ctrl-C' AS fresh;
SELECT 'unfinished'
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var term bytes.Buffer
			now := tt.now
			if now.IsZero() {
				now = goldenTime
			}
			s := openSessionAt(t, dir, &term, now)
			s.Terminal = true // as in the REPL
			ed := &scriptEditor{out: &term, lines: lines(tt.script)}
			in := &shell.Interactive{Session: s, Editor: ed}
			if code := in.Run(context.Background()); code != 0 {
				t.Errorf("exit status %d", code)
			}
			golden.Check(t, "repl-"+tt.name, term.Bytes())
		})
	}
}

// TestREPLHistoryEntries checks what the up arrow recalls: a statement typed over several
// lines is one entry that runs the same statement, commands are entries too.
func TestREPLHistoryEntries(t *testing.T) {
	var term bytes.Buffer
	s := openSession(t, testSpool(t), &term)
	hist := filepath.Join(t.TempDir(), "history")
	h, _, err := shell.OpenHistory(hist)
	if err != nil {
		t.Fatal(err)
	}
	ed := &scriptEditor{out: &term, lines: lines(`
SELECT count(*) -- how many
FROM messages
WHERE subject = 'two
lines';
.mode csv
SELECT 1;
SELECT 1;
`)}
	in := &shell.Interactive{Session: s, Editor: ed, History: h}
	in.Run(context.Background())
	want := []string{
		"SELECT count(*) /* how many */ FROM messages WHERE subject = 'two\nlines';",
		".mode csv",
		"SELECT 1;",
	}
	if !slices.Equal(ed.history, want) {
		t.Errorf("editor history %q, want %q", ed.history, want)
	}
	_, entries, err := shell.OpenHistory(hist)
	if err != nil || !slices.Equal(entries, want) {
		t.Errorf("history file read back %q, %v; want %q", entries, err, want)
	}
	st, err := os.Stat(hist)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
}

func TestHistoryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h")
	long := "SELECT '" + strings.Repeat("x", 10000) + "';"
	entries := []string{`SELECT 'a\nb' REGEXP '\d';`, "SELECT 'two\nlines';", long, "SELECT 'cr\r';"}
	h, _, err := shell.OpenHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		h.Add(e)
	}
	// Another session wrote meanwhile: its entry is kept.
	if err := os.WriteFile(path, []byte("SELECT 'other session';\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	_, got, err := shell.OpenHistory(path)
	want := append([]string{"SELECT 'other session';"}, entries...)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("read back %d entries %.200q, %v; want %.200q", len(got), got, err, want)
	}

	// Only the last HistoryLimit entries are kept.
	for i := range shell.HistoryLimit + 10 {
		h.Add(strings.Repeat("x", i%7+1) + " " + time.Duration(i).String())
	}
	if err := h.Save(); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := shell.OpenHistory(path); len(got) != shell.HistoryLimit {
		t.Errorf("%d entries kept, want %d", len(got), shell.HistoryLimit)
	}

	// A history that is /dev/null (or any non-file) is left alone.
	h, _, err = shell.OpenHistory(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	h.Add("SELECT 1;")
	if err := h.Save(); err != nil {
		t.Errorf("save to %s: %v", os.DevNull, err)
	}
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode().IsRegular() {
		t.Fatalf("%s was replaced: %v %v", os.DevNull, st.Mode(), err)
	}
}

func TestHistoryPath(t *testing.T) {
	t.Setenv("HOME", "/home/admin")
	t.Setenv("MQSQL_HISTORY", "/tmp/x")
	if got := shell.HistoryPath(); got != "/tmp/x" {
		t.Errorf("HistoryPath() = %q with MQSQL_HISTORY", got)
	}
	t.Setenv("MQSQL_HISTORY", "")
	if got := shell.HistoryPath(); got != "" {
		t.Errorf("HistoryPath() = %q with MQSQL_HISTORY empty, want no history", got)
	}
	os.Unsetenv("MQSQL_HISTORY")
	if got := shell.HistoryPath(); got != "/home/admin/.mqsql_history" {
		t.Errorf("HistoryPath() = %q", got)
	}
}

// TestREPLInterruptCancelsQuery presses Ctrl-C while a long query runs: the query stops with
// "interrupted" and the REPL goes on.
func TestREPLInterruptCancelsQuery(t *testing.T) {
	var term bytes.Buffer
	s := openSession(t, testSpool(t), &term)
	ed := &scriptEditor{out: &term, lines: lines(`
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;
SELECT 'still here' AS after;
`)}
	interrupts := make(chan os.Signal, 1)
	in := &shell.Interactive{Session: s, Editor: ed, Interrupts: interrupts}
	go func() {
		time.Sleep(300 * time.Millisecond)
		interrupts <- os.Interrupt
	}()
	done := make(chan int)
	go func() { done <- in.Run(context.Background()) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Ctrl-C did not stop the query")
	}
	ed.mu.Lock()
	out := term.String()
	ed.mu.Unlock()
	if !strings.Contains(out, "Error: interrupted") || !strings.Contains(out, "still here") {
		t.Errorf("transcript:\n%s", out)
	}
}

// TestREPLConfirm checks the yes/no question the REPL answers for DELETE and UPDATE: only y
// or yes is yes, Ctrl-C is no, and the question is shown escaped.
func TestREPLConfirm(t *testing.T) {
	tests := []struct {
		answer string
		want   bool
	}{{"y", true}, {"YES", true}, {"", false}, {"n", false}, {"^C", false}, {"yep", false}}
	for _, tt := range tests {
		var term bytes.Buffer
		s := openSession(t, testSpool(t), &term)
		var asked bool
		var answer bool
		ed := &scriptEditor{out: &term, lines: []string{".confirm-probe", tt.answer}}
		in := &shell.Interactive{Session: s, Editor: ed}
		s.BeforeStatement = func(context.Context) error {
			asked = true
			var err error
			answer, err = s.Confirm("Subject \x1b[2J here\nDelete 1 message? [y/N] ")
			return err
		}
		ed.lines = []string{"SELECT 1;", tt.answer}
		in.Run(context.Background())
		if !asked || answer != tt.want {
			t.Errorf("answer %q: asked %v, confirmed %v; want %v", tt.answer, asked, answer, tt.want)
		}
		if strings.Contains(term.String(), "\x1b") || !strings.Contains(term.String(), `Subject \x1b[2J here`) {
			t.Errorf("question not escaped:\n%q", term.String())
		}
	}
}
