package mqsql_test

import (
	"regexp"
	"testing"

	"github.com/mqsql/mqsql"
)

// TestNamedObjectsAreInTheSchema checks that every table and view help texts name is one the
// schema creates, and that the schema creates no view users are not told about.
func TestNamedObjectsAreInTheSchema(t *testing.T) {
	created := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^CREATE (TABLE|VIEW) (\w+)`).FindAllStringSubmatch(mqsql.Schema, -1) {
		created[m[2]] = m[1]
	}
	named := map[string]bool{}
	for _, n := range append(append([]string{}, mqsql.Tables...), mqsql.Views...) {
		named[n] = true
		if created[n] == "" {
			t.Errorf("%s is named in help but not created by schema.sql", n)
		}
	}
	for n, kind := range created {
		if kind == "VIEW" && !named[n] {
			t.Errorf("view %s is not named in mqsql.Tables or mqsql.Views", n)
		}
	}
}
