package sendmail

import (
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
)

// TestParseQFProblems: what readqf rejects is a message with an error, never lost mail; the
// lines before the damage still count.
func TestParseQFProblems(t *testing.T) {
	const good = "V8\nT1796154958\nK0\nN0\nP30125\nSalice@sender.example\nRPFD:bob@dest.example\nH??Subject: x\n.\n"
	tests := []struct {
		name, data, problem string
		recipients          int
	}{
		{"good", good, "", 1},
		{"no end marker", strings.TrimSuffix(good, ".\n"), "incomplete queue file: no end marker (.)", 1},
		{"data after the end", good + "Rextra:x@y\n", "line 10: data after the end marker (.): readqf rejects the file", 1},
		{"newer version", strings.Replace(good, "V8", "V9", 1), `line 1: unsupported queue file version "9"`, 1},
		{"no version", strings.TrimPrefix(good, "V8\n"), `line 1: no version line: first line "T1796154958"`, 1},
		{"bad number", strings.Replace(good, "N0", "Nx", 1), `line 4: bad N line "Nx"`, 1},
		{"empty line", strings.Replace(good, "P30125\n", "P30125\n\n", 1), "line 6: empty line", 1},
		{"bad header", strings.Replace(good, "H??Subject: x", "H??no colon", 1), `line 8: bad header line "no colon"`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f qfile
			var m mqsql.Message
			problem, canceled := parseQF([]byte(tt.data), &f, &m, nil)
			got := ""
			if problem != nil {
				got = problem.Error()
			}
			if got != tt.problem || canceled != nil || len(m.Recipients) != tt.recipients {
				t.Errorf("problem %q, canceled %v, %d recipients; want %q, %d", got, canceled, len(m.Recipients), tt.problem, tt.recipients)
			}
		})
	}
}

// TestRecipientLimit: past mqsql.MaxRecipients a message keeps its first recipients and says
// why the others are missing, as every driver's reader does.
func TestRecipientLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("V8\nT1\nSa@b\n")
	for range mqsql.MaxRecipients + 2 {
		b.WriteString("RPFD:r@x.example\n")
	}
	b.WriteString(".\n")
	var f qfile
	var m mqsql.Message
	problem, _ := parseQF([]byte(b.String()), &f, &m, nil)
	if len(m.Recipients) != mqsql.MaxRecipients || problem == nil || !strings.Contains(problem.Error(), "mqsql's limit per message") {
		t.Errorf("%d recipients, problem %v", len(m.Recipients), problem)
	}
}
