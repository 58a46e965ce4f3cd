package shell

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/sqlfuncs"
)

// completer offers, at the cursor, what may come next there: dot-commands and their
// arguments at the start of a line; inside SQL, table and view names after FROM and JOIN,
// column names (of the tables the statement names, else of all), function names and keywords
// elsewhere, alias.column after "alias.", and queue names or queue IDs inside a quoted
// string compared with queue or queue_id. Names come from the live schema at each Tab, so a
// TEMP table made a moment ago completes too.
type completer struct {
	s       *Session
	pending func() string // the statement typed on earlier lines
}

func newCompleter(s *Session, pending func() string) *completer {
	return &completer{s: s, pending: pending}
}

// complete is liner's word completer: line and the cursor position pos in runes; it returns
// the text before the completed word, the candidates for it, and the text after the cursor.
func (c *completer) complete(line string, pos int) (head string, candidates []string, tail string) {
	r := []rune(line)
	pos = min(max(pos, 0), len(r))
	before, tail := string(r[:pos]), string(r[pos:])
	pending := ""
	if c.pending != nil {
		pending = c.pending()
	}
	if pending == "" && isDotCommand(before) {
		head, candidates = c.dotCommand(before)
	} else {
		head, candidates = c.sql(pending, before, tail)
	}
	return head, printable(candidates), tail
}

// printable drops candidates that would put control characters on the terminal when liner
// lists them (a TEMP table named by a prankster).
func printable(list []string) []string {
	out := list[:0]
	for _, s := range list {
		if !strings.ContainsFunc(s, unicode.IsControl) {
			out = append(out, s)
		}
	}
	return out
}

// dotCommand completes a dot-command's name or its argument.
func (c *completer) dotCommand(before string) (string, []string) {
	name, rest, hasArg := strings.Cut(strings.TrimLeft(before, " \t"), " ")
	if !hasArg {
		head := before[:len(before)-len(name)]
		return head, withPrefix(dotWords(), name, false)
	}
	word := rest[strings.LastIndexAny(rest, " \t")+1:]
	head := before[:len(before)-len(word)]
	cmd, err := findDot(strings.TrimPrefix(name, "."))
	if err != nil {
		return head, nil
	}
	switch cmd.name {
	case "read", "once", "output":
		return head, filePaths(word)
	case "cat":
		if strings.HasPrefix(word, "-") {
			return head, withPrefix([]string{"-e", "-h", "-b"}, word, false)
		}
		return head, c.queueIDs(word)
	}
	if cmd.args == nil {
		return head, nil
	}
	return head, withPrefix(cmd.args(c.s), word, true)
}

func dotWords() []string {
	words := make([]string, len(dotCmds))
	for i, d := range dotCmds {
		words[i] = "." + d.name
	}
	return words
}

// sql completes inside a statement; pending is the statement's text on earlier lines.
func (c *completer) sql(pending, before, after string) (string, []string) {
	toks, open, openAt := lexSQL(pending + "\n" + before)
	lineStart := len(pending) + 1
	if open == '\'' {
		if openAt < lineStart {
			return before, nil // the string began on an earlier line
		}
		q := openAt - lineStart
		return before[:q], c.quoted(toks, before[q+1:])
	}
	if open != 0 {
		return before, nil
	}
	word := trailingWord(before)
	head := before[:len(before)-len(word)]
	toks, _, _ = lexSQL(pending + "\n" + head) // what comes before the word
	sch := c.schema()
	all, _, _ := lexSQL(pending + "\n" + before + after)
	aliases := sch.aliases(all)
	if q, col, ok := strings.Cut(word, "."); ok && !strings.Contains(col, ".") {
		table := aliases[strings.ToLower(q)]
		if table == "" {
			table = strings.ToLower(q)
		}
		var list []string
		for _, name := range withPrefix(sch.columns[table], col, true) {
			list = append(list, q+"."+name)
		}
		return head, list
	}
	if wantsTable(toks) {
		return head, withPrefix(sch.tables, word, true)
	}
	var list []string
	list = append(list, withPrefix(sch.columnsOf(aliases), word, true)...)
	for _, f := range withPrefix(sch.functions, word, true) {
		list = append(list, f+"(")
	}
	list = append(list, keywordsLike(word)...)
	return head, dedupe(list)
}

// wantsTable reports whether the next word is a table: after FROM, JOIN, INTO, UPDATE or
// TABLE, or after a comma in a FROM list.
func wantsTable(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	switch toks[len(toks)-1].up {
	case "FROM", "JOIN", "INTO", "UPDATE", "TABLE":
		return true
	case ",":
		for i := len(toks) - 2; i >= 0; i-- {
			if t := toks[i]; t.kind == wordToken && isKeyword(t.up) {
				return t.up == "FROM"
			}
		}
	}
	return false
}

// quoted completes a string literal: queue names after queue, from_queue or to_queue, queue
// IDs after queue_id, each with its closing quote.
func (c *completer) quoted(toks []token, prefix string) []string {
	column := ""
	for i := len(toks) - 1; i >= 0; i-- {
		t := toks[i]
		if t.kind == wordToken && t.up != "IN" && t.up != "NOT" && t.up != "IS" {
			column = strings.ToLower(t.text)
			break
		}
		if t.kind == punctToken && !strings.Contains("=<>!(,", t.text) {
			break
		}
	}
	if i := strings.LastIndexByte(column, '.'); i >= 0 {
		column = column[i+1:]
	}
	var values []string
	switch column {
	case "queue", "from_queue", "to_queue":
		values = withPrefix(c.queueNames(), prefix, false)
	case "queue_id":
		values = c.queueIDs(prefix)
	}
	for i, v := range values {
		values[i] = "'" + v + "'"
	}
	return values
}

// trailingWord returns the word (with dots, for alias.column) that ends before.
func trailingWord(before string) string {
	i := len(before)
	for i > 0 && (index.IsWordByte(before[i-1]) || before[i-1] == '.') {
		i--
	}
	return before[i:]
}

// queueNames are the queues of the MTA the index mirrors, as its driver declares them (the
// queues table), in its listing's order.
func (c *completer) queueNames() []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rows, err := c.s.Conn.QueryContext(ctx, `SELECT queue FROM queues ORDER BY position`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var q string
		if rows.Scan(&q) == nil {
			names = append(names, q)
		}
	}
	return names
}

// queueIDs lists queue IDs starting with prefix, at most 200.
func (c *completer) queueIDs(prefix string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	like := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(prefix) + "%"
	rows, err := c.s.Conn.QueryContext(ctx, `SELECT DISTINCT queue_id FROM messages
		WHERE queue_id LIKE ? ESCAPE '\' ORDER BY queue_id LIMIT 200`, like)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if rows.Scan(&id) == nil && strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	return ids
}

// keywordsLike returns the keywords starting with word, in lower case when word is.
func keywordsLike(word string) []string {
	lower := word != "" && word == strings.ToLower(word)
	var list []string
	for _, k := range sqlKeywords {
		if strings.HasPrefix(k, strings.ToUpper(word)) {
			if lower {
				k = strings.ToLower(k)
			}
			list = append(list, k)
		}
	}
	return list
}

// withPrefix returns the names starting with prefix, ignoring case when fold is set.
func withPrefix(names []string, prefix string, fold bool) []string {
	var list []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) || (fold && strings.HasPrefix(strings.ToLower(n), strings.ToLower(prefix))) {
			list = append(list, n)
		}
	}
	return list
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	out := list[:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// filePaths completes a file name: the entries of its directory that start with its last part,
// directories with a trailing slash.
func filePaths(word string) []string {
	dir, base := filepath.Split(word)
	entries, err := os.ReadDir(filepath.Clean("./" + dir))
	if dir != "" && filepath.IsAbs(dir) {
		entries, err = os.ReadDir(dir)
	}
	if err != nil {
		return nil
	}
	var list []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		if e.IsDir() {
			name += "/"
		}
		list = append(list, dir+name)
	}
	sort.Strings(list)
	return list
}

// schemaInfo is what completion knows of the index at one Tab.
type schemaInfo struct {
	tables    []string            // tables and views
	columns   map[string][]string // by lower-cased table name
	functions []string
}

// schema reads the tables, views, columns and functions of the session's connection. The
// columns come from preparing a query on each table rather than from pragma_table_info, which
// the session's guard refuses with a table name from a column.
func (c *completer) schema() *schemaInfo {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	sch := &schemaInfo{columns: map[string][]string{}}
	tables, err := c.s.objectNames(ctx, "%")
	if err != nil {
		return sch
	}
	for _, table := range tables {
		cols, err := c.columns(ctx, table)
		if err != nil {
			continue
		}
		sch.tables = append(sch.tables, table)
		sch.columns[strings.ToLower(table)] = cols
	}
	sch.functions = c.functions(ctx)
	return sch
}

// columns returns a table's column names. WHERE 0 lets SQLite skip the query (a view's
// aggregates included) while still naming its columns.
func (c *completer) columns(ctx context.Context, table string) ([]string, error) {
	rows, err := c.s.Conn.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`" WHERE 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

// functions lists the SQL functions of the connection: SQLite's own and mqsql's.
func (c *completer) functions(ctx context.Context) []string {
	names := slices.Clone(sqlfuncs.Names)
	rows, err := c.s.Conn.QueryContext(ctx, `SELECT DISTINCT name FROM pragma_function_list
		WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE 'fts%' AND name GLOB '[a-z]*'`)
	if err == nil {
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				names = append(names, n)
			}
		}
		rows.Close()
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// aliases maps the names a statement gives its tables ("FROM messages m", "JOIN recipients
// AS r") and the tables' own names to the lower-cased table names.
func (sch *schemaInfo) aliases(toks []token) map[string]string {
	m := map[string]string{}
	for i, t := range toks {
		key := strings.ToLower(t.text)
		if t.kind != wordToken || sch.columns[key] == nil {
			continue
		}
		m[key] = key
		j := i + 1
		if j < len(toks) && toks[j].up == "AS" {
			j++
		}
		if j < len(toks) && toks[j].kind == wordToken && !isKeyword(toks[j].up) {
			m[strings.ToLower(toks[j].text)] = key
		}
	}
	return m
}

// columnsOf returns the columns of the tables a statement names, or of every table when it
// names none yet ("SELECT sen" before FROM).
func (sch *schemaInfo) columnsOf(aliases map[string]string) []string {
	var tables []string
	for _, t := range aliases {
		tables = append(tables, t)
	}
	if len(tables) == 0 {
		for t := range sch.columns {
			tables = append(tables, t)
		}
	}
	sort.Strings(tables)
	var cols []string
	for _, t := range tables {
		cols = append(cols, sch.columns[t]...)
	}
	sort.Strings(cols)
	return slices.Compact(cols)
}
