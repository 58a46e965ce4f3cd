package mqsql_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
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
