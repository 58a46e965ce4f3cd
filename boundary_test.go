package mqsql_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
)

// TestOnlyDriversKnowTheirMTA keeps each MTA's rules in its driver: no package but the
// drivers themselves, the command that picks one, benchmarks and test support imports a
// driver package (spool/...), so the index, the SQL functions, the write path and the shell
// can only ask the root package's interfaces.
func TestOnlyDriversKnowTheirMTA(t *testing.T) {
	allowed := []string{"spool/", "cmd/mqsql/", "bench/", "internal/postfixtest/", "internal/spoolgen/", "internal/testspool/"}
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		for _, a := range allowed {
			if strings.HasPrefix(filepath.ToSlash(path), a) {
				return nil
			}
		}
		checked++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/mqsql/mqsql/spool") {
				t.Errorf("%s imports the driver %s: ask the root package's interfaces instead", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: the walk missed the packages", checked)
	}
}

// mtaRules are the shapes one MTA's rules take in SQL and data, which only its driver may
// hold: a file mode mask, a queue ID's alphabet or length, Postfix's relation between a
// message's size and its file's, a list of queue names, a path in a queue directory.
var mtaRules = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a file mode mask", regexp.MustCompile(`(?i)\bmode\b\s*&|&\s*(0o?[0-7]{3,4}|475|448)\b`)},
	{"a queue ID alphabet", regexp.MustCompile(`(?i)queue_id\s+(NOT\s+)?(GLOB|LIKE|REGEXP)\s*'`)},
	{"a queue ID length", regexp.MustCompile(`(?i)length\s*\(\s*(\w+\.)?queue_id\s*\)`)},
	{"a size relation", regexp.MustCompile(`(?i)\bsize\s*[<>]=?\s*(\w+\.)?file_size\b|\bfile_size\s*[<>]=?\s*(\w+\.)?size\b`)},
	{"a list of queue names", regexp.MustCompile(`'` + queueNames + `'\s*\)?\s*,\s*\(?\s*'` + queueNames + `'`)},
	{"a queue directory path", regexp.MustCompile(`^(maildrop|incoming|active|deferred|hold|corrupt|defer|bounce|input|msglog)/`)},
}

const queueNames = `(maildrop|incoming|active|deferred|hold|corrupt)`

// mtaRulesIn returns what of mtaRules text holds, one line each.
func mtaRulesIn(text string) []string {
	var found []string
	for _, r := range mtaRules {
		if m := r.re.FindString(text); m != "" {
			found = append(found, fmt.Sprintf("%s (%q)", r.what, m))
		}
	}
	return found
}

// TestSchemaHoldsNoMTARule keeps schema.sql free of any MTA's rules: the views ask the rows
// (queue_files.listed) and the queues table, which the driver fills.
func TestSchemaHoldsNoMTARule(t *testing.T) {
	for _, found := range mtaRulesIn(sqlCode(mqsql.Schema)) {
		t.Errorf("schema.sql holds %s: let the driver say it (mqsql.Meaning, a column it fills)", found)
	}
}

// sqlCode is SQL text without its -- comments, which may explain a rule without holding it.
func sqlCode(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		code, _, _ := strings.Cut(line, "--")
		b.WriteString(code + "\n")
	}
	return b.String()
}

// TestMTARulesAreCaught checks that the rule shapes are found where they were before each
// MTA's meaning moved into its driver: the boundary tests above can fail.
func TestMTARulesAreCaught(t *testing.T) {
	for _, text := range []string{
		"AND (f.mode & 475) = 448",
		"AND length(f.queue_id) >= 6",
		"f.queue_id NOT GLOB '*[^A-Za-z0-9]*'",
		"AND f.size < f.file_size",
		"queues(queue) AS (VALUES ('maildrop'), ('incoming'), ('active'))",
		"WHERE f.queue IN ('maildrop', 'incoming', 'active', 'deferred', 'hold')",
		"m.File.Mode&0o733 == 0o700",
		"deferred/",
	} {
		if len(mtaRulesIn(text)) == 0 {
			t.Errorf("%q: no rule found", text)
		}
	}
	for _, text := range []string{"WHERE f.listed", "queue <> 'corrupt'", "f.queue = 'deferred'", "SELECT queue FROM queues"} {
		if found := mtaRulesIn(text); len(found) > 0 {
			t.Errorf("%q: found %v in MTA-neutral SQL", text, found)
		}
	}
	src := "package x\nvar a = []mqsql.Queue{mqsql.Maildrop, mqsql.Active}\nvar b = mqsql.AllQueues\n" +
		"func f(m *mqsql.Message) bool { return m.File.Mode&0o100 != 0 }\nvar c = []string{\"maildrop\", \"hold\"}\n"
	if got := goMTARules(t, "x.go", src); len(got) != 4 {
		t.Errorf("goMTARules found %d rules in %q, want 4: %v", len(got), src, got)
	}
}

// goOwnFileRules are the packages whose file modes are mqsql's own (its index, backups and
// the checks before it opens a file), not a queue file's.
var goOwnFileRules = []string{"internal/safefile/", "internal/saferoot/", "internal/backupfolder/", "internal/golden/"}

// TestOnlyDriversHoldMTARules is TestOnlyDriversKnowTheirMTA for rules written out rather
// than imported: no package but the drivers (and the command, benchmarks and test support
// that may import them) holds a queue file mode mask, a list of queue names, the root's
// vocabulary used as one MTA's order (AllQueues), or SQL of the shapes of mtaRules.
func TestOnlyDriversHoldMTARules(t *testing.T) {
	allowed := []string{"spool/", "cmd/mqsql/", "bench/", "internal/postfixtest/", "internal/spoolgen/",
		"internal/testspool/", "internal/eximtest/", "internal/sendmailtest/"}
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		p := filepath.ToSlash(path)
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || p == "queue.go" {
			return nil
		}
		for _, a := range append(allowed, goOwnFileRules...) {
			if strings.HasPrefix(p, a) {
				return nil
			}
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for _, found := range goMTARules(t, p, string(src)) {
			t.Errorf("%s holds %s: only its driver may (mqsql.Meaning)", p, found)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: the walk missed the packages", checked)
	}
}

// goMTARules returns the MTA rules the Go source src holds: mode masks (x.Mode & …), lists
// of queue values, mqsql.AllQueues used as an order, and string literals of mtaRules' shapes.
func goMTARules(t *testing.T, name, src string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), name, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.BasicLit:
			if s, err := strconv.Unquote(x.Value); err == nil && x.Kind == token.STRING {
				found = append(found, mtaRulesIn(sqlCode(s))...)
			}
		case *ast.BinaryExpr:
			if x.Op == token.AND && (namesMode(x.X) || namesMode(x.Y)) {
				found = append(found, "a file mode mask")
			}
		case *ast.CompositeLit:
			if isQueueSlice(x.Type) && len(x.Elts) > 1 || queueNameLits(x.Elts) > 1 {
				found = append(found, "a list of queue names")
			}
		case *ast.SelectorExpr:
			if id, ok := x.X.(*ast.Ident); ok && id.Name == "mqsql" && x.Sel.Name == "AllQueues" {
				found = append(found, "mqsql.AllQueues as an order")
			}
		}
		return true
	})
	return found
}

// queueNameLits counts the string literals among elts that are queue names.
func queueNameLits(elts []ast.Expr) int {
	n := 0
	for _, e := range elts {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && mqsql.Queue(s).Valid() {
				n++
			}
		}
	}
	return n
}

// namesMode reports whether e is a mode: x.Mode, or a variable named mode.
func namesMode(e ast.Expr) bool {
	switch x := e.(type) {
	case *ast.SelectorExpr:
		return x.Sel.Name == "Mode"
	case *ast.Ident:
		return x.Name == "mode"
	case *ast.ParenExpr:
		return namesMode(x.X)
	}
	return false
}

// isQueueSlice reports whether t is []mqsql.Queue (or []Queue in the root package).
func isQueueSlice(t ast.Expr) bool {
	a, ok := t.(*ast.ArrayType)
	if !ok {
		return false
	}
	switch e := a.Elt.(type) {
	case *ast.SelectorExpr:
		return e.Sel.Name == "Queue"
	case *ast.Ident:
		return e.Name == "Queue"
	}
	return false
}
