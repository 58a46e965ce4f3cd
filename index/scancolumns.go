package index

import "strings"

// scanColumns maps a virtual table's columns, declared in schema.sql's order (what SQLite's
// column numbers count), to the values of a row, in the order the index's writer binds them
// (fileColumns, rcptColumns): the row values are the index's own, and the two orders need not
// agree.
type scanColumns struct {
	perm   []int          // schema position → position in the row values
	schema map[string]int // column name → schema position
	values map[string]int // column name → position in the row values
}

// columnsOf maps table's schema.sql columns to the writer's list of them, insertList.
func columnsOf(table, insertList string) scanColumns {
	c := scanColumns{schema: map[string]int{}, values: map[string]int{}}
	for i, name := range strings.Split(insertList, ",") {
		c.values[strings.TrimSpace(name)] = i
	}
	for i, name := range schemaColumns(tableStatement(table)) {
		v, ok := c.values[name]
		if !ok {
			panic("index: the writer does not bind column " + table + "." + name)
		}
		c.schema[name] = i
		c.perm = append(c.perm, v)
	}
	if len(c.perm) != len(c.values) {
		panic("index: schema.sql and the writer disagree on the columns of " + table)
	}
	return c
}

// schemaColumns lists the column names of a CREATE TABLE statement (comments removed), in
// order: the first word of each definition between the outer parentheses.
func schemaColumns(stmt string) []string {
	var names []string
	depth, expect := 0, false
	for _, t := range Tokens(stmt) {
		switch {
		case t.Kind == TokenPunct && stmt[t.Start] == '(':
			depth++
			expect = expect || depth == 1
		case t.Kind == TokenPunct && stmt[t.Start] == ')':
			depth--
		case t.Kind == TokenPunct && stmt[t.Start] == ',' && depth == 1:
			expect = true
		case expect && depth == 1 && (t.Kind == TokenWord || t.Kind == TokenQuoted):
			names = append(names, t.Value(stmt))
			expect = false
		}
	}
	return names
}

// The column maps of the two tables.
var (
	fileScanColumns = columnsOf("queue_files", fileColumns)
	rcptScanColumns = columnsOf("queue_recipients", rcptColumns)
)
