package shell_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mqsql/mqsql/shell"
)

func TestComplete(t *testing.T) {
	var term bytes.Buffer
	s := openSession(t, testSpool(t), &term)
	files := t.TempDir()
	os.WriteFile(filepath.Join(files, "queries.sql"), nil, 0o644)
	os.Mkdir(filepath.Join(files, "queue-reports"), 0o755)
	tests := []struct {
		pending    string // typed on earlier lines
		line       string // "|" marks the cursor; at the end when absent
		head, tail string
		want       []string // nil: no candidates; a candidate list starting with "+" only needs to contain the rest
	}{
		{line: "SELECT sen", head: "SELECT ", want: []string{"sender"}},
		{line: "sel", want: []string{"select"}},
		{line: "SEL", want: []string{"SELECT"}},
		{line: "SELECT * FROM mes", head: "SELECT * FROM ", want: []string{"messages"}},
		{line: "SELECT * FROM messages m JOIN rec", head: "SELECT * FROM messages m JOIN ", want: []string{"recipients"}},
		{line: "SELECT * FROM messages, sen", head: "SELECT * FROM messages, ", want: []string{"senders"}},
		{line: "SELECT m.sen| FROM messages m", head: "SELECT ", tail: " FROM messages m", want: []string{"m.sender"}},
		{line: "SELECT r.st| FROM messages JOIN recipients AS r USING (queue_id)", head: "SELECT ", tail: " FROM messages JOIN recipients AS r USING (queue_id)", want: []string{"r.status"}},
		{line: "SELECT * FROM messages WHERE subj", head: "SELECT * FROM messages WHERE ", want: []string{"subject"}},
		{line: "SELECT * FROM reasons WHERE rea", head: "SELECT * FROM reasons WHERE ", want: []string{"reason"}},
		{line: "SELECT human", head: "SELECT ", want: []string{"human_size("}},
		{line: "SELECT upp", head: "SELECT ", want: []string{"upper("}},
		{line: "SELECT * FROM messages WHERE queue = 'def", head: "SELECT * FROM messages WHERE queue = ", want: []string{"'deferred'"}},
		{line: "SELECT * FROM messages WHERE queue IN ('hold', 'd", head: "SELECT * FROM messages WHERE queue IN ('hold', ", want: []string{"'deferred'"}},
		{line: "SELECT * FROM messages WHERE queue_id = '4jc7PP", head: "SELECT * FROM messages WHERE queue_id = ", want: []string{"'4jc7PP1W6fzdXSJ'"}},
		{line: "SELECT * FROM messages WHERE sender = 'a", head: "SELECT * FROM messages WHERE sender = ", want: nil},
		{pending: "SELECT *", line: "FROM mes", head: "FROM ", want: []string{"messages"}},
		{pending: "SELECT * FROM messages", line: "WHERE sen", head: "WHERE ", want: []string{"sender"}},
		{line: ".mo", want: []string{".mode"}},
		{line: "  .sh", head: "  ", want: []string{".show"}},
		{line: ".mode cs", head: ".mode ", want: []string{"csv"}},
		{line: ".headers o", head: ".headers ", want: []string{"on", "off"}},
		{line: ".schema sen", head: ".schema ", want: []string{"senders"}},
		{line: ".cat -", head: ".cat ", want: []string{"-e", "-h", "-b"}},
		{line: ".cat -h 4jc7PP", head: ".cat -h ", want: []string{"4jc7PP1W6fzdXSJ"}},
		{line: ".read " + files + "/q", head: ".read ", want: []string{files + "/queries.sql", files + "/queue-reports/"}},
		{line: ".help ma", head: ".help ", want: nil},
	}
	for _, tt := range tests {
		in := &shell.Interactive{Session: s, Editor: &scriptEditor{out: &term, lines: []string{tt.pending}}}
		in.Run(context.Background()) // types the pending line, then Ctrl-D
		line, pos := tt.line, len([]rune(tt.line))
		if i := bytes.IndexByte([]byte(tt.line), '|'); i >= 0 {
			line = tt.line[:i] + tt.line[i+1:]
			pos = len([]rune(tt.line[:i]))
		}
		head, got, tail := in.Complete(line, pos)
		if head != tt.head || tail != tt.tail || !slices.Equal(got, tt.want) {
			t.Errorf("Complete(%q after %q) = %q, %q, %q; want %q, %q, %q", tt.line, tt.pending, head, got, tail, tt.head, tt.want, tt.tail)
		}
	}
}
