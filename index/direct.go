package index

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/sqlfuncs"
	"modernc.org/sqlite"
)

// ErrDirect is what an index operation returns on a direct database (OpenDirect): it has no
// rows of its own to update.
var ErrDirect = errors.New("index: a direct database answers from the spool and keeps no rows")

// OpenDirect opens a database with no index file that answers read-only statements straight
// from sp: queue_files and queue_recipients are virtual tables whose rows the driver's
// readers give as a statement asks for them, and schema.sql's views (messages, recipients,
// qshape, reasons, senders) are defined over them as in an index. A statement reads only the
// files its constraints on queue and queue_id name, and only as far as its columns need: the
// 21.5 s a cold index spends storing and indexing 1,000,000 messages (issue 28) is not spent.
// The tables that only an index keeps (events, the running totals) are absent, so a statement
// that uses them fails to prepare: DirectReadable says beforehand whether one would.
func OpenDirect(ctx context.Context, sp mqsql.Spool, opts ...Option) (*Index, error) {
	ix := &Index{content: &sqlfuncs.Source{}, direct: true}
	for _, o := range opts {
		o(ix)
	}
	ix.content.Set(sp)
	d := &sqlite.Driver{}
	if err := sqlfuncs.Register(d, ix.content, ix.clock); err != nil {
		return nil, fmt.Errorf("register SQL functions: %w", err)
	}
	src := newScanSource(ix, sp)
	for _, m := range []struct {
		name  string
		table scanKind
	}{{directFilesModule, scanFiles}, {directRcptsModule, scanRecipients}} {
		if err := d.RegisterModule(m.name, &scanModule{kind: m.table, src: src}); err != nil {
			return nil, fmt.Errorf("register %s: %w", m.name, err)
		}
	}
	dsn, err := dataSource("", false)
	if err != nil {
		return nil, err
	}
	ix.db = sqlOpen(d, dsn)
	// One connection: the virtual tables' cursors share the last message read (one read per
	// file per statement), and the memdb schema needs no second copy.
	ix.db.SetMaxOpenConns(1)
	if _, err := ix.db.ExecContext(ctx, directSchema()); err != nil {
		ix.db.Close()
		return nil, fmt.Errorf("create direct schema: %w", err)
	}
	if err := ix.declareDirectQueues(ctx, sp.Meaning()); err != nil {
		ix.db.Close()
		return nil, err
	}
	return ix, nil
}

// declareDirectQueues fills the direct database's queues table with the driver's queues, as
// a load of an index does: the views (qshape, the totals) read it.
func (ix *Index) declareDirectQueues(ctx context.Context, m *mqsql.Meaning) error {
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("declare the queues: %w", err)
	}
	defer tx.Rollback()
	if err := declareQueues(ctx, tx, m); err != nil {
		return err
	}
	return tx.Commit()
}

// Direct reports whether ix answers from the spool (OpenDirect) rather than from stored rows.
func (ix *Index) Direct() bool { return ix.direct }

// The module names of the two virtual tables.
const (
	directFilesModule = "mqsql_queue_files"
	directRcptsModule = "mqsql_queue_recipients"
)

// directQueuesTable is the one real table of a direct database: the driver's queues, which
// OpenDirect writes as a load of an index does.
const directQueuesTable = "queues"

var (
	createTableRE = regexp.MustCompile(`(?i)^\s*CREATE\s+TABLE\s+(\w+)`)
	createViewRE  = regexp.MustCompile(`(?i)^\s*CREATE\s+VIEW\s+(\w+)`)
)

// directSchema is schema.sql's base tables as virtual tables, and its views over them.
func directSchema() string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE VIRTUAL TABLE queue_files USING %s;\n", directFilesModule)
	fmt.Fprintf(&b, "CREATE VIRTUAL TABLE queue_recipients USING %s;\n", directRcptsModule)
	fmt.Fprintf(&b, "%s;\n", tableStatement(directQueuesTable))
	tables, _ := schemaParts()
	for _, st := range statements(tables) {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(stripComments(st))), "CREATE VIEW") {
			b.WriteString(st)
			b.WriteString(";\n")
		}
	}
	return b.String()
}

// tableStatement is schema.sql's CREATE TABLE statement of name, which a virtual table
// declares as its own, so that its columns, their order and their types are the index's.
func tableStatement(name string) string {
	tables, _ := schemaParts()
	for _, st := range statements(tables) {
		if m := createTableRE.FindStringSubmatch(stripComments(st)); m != nil && m[1] == name {
			return stripComments(st)
		}
	}
	panic("schema.sql has no table " + name)
}

// IndexOnlyTables lists schema.sql's tables that only an index keeps (events, intents, the
// running totals, the delivery history), and the views that read one of them: a statement
// naming one cannot be answered by a direct database.
func IndexOnlyTables() []string {
	tables, _ := schemaParts()
	only := map[string]bool{}
	var out []string
	views := map[string]string{}
	for _, st := range statements(tables) {
		text := stripComments(st)
		if m := createTableRE.FindStringSubmatch(text); m != nil && m[1] != "queue_files" && m[1] != "queue_recipients" && m[1] != directQueuesTable {
			only[strings.ToLower(m[1])] = true
			out = append(out, m[1])
		} else if m := createViewRE.FindStringSubmatch(text); m != nil {
			views[strings.ToLower(m[1])] = text
		}
	}
	for added := true; added; { // a view over such a view needs an index too
		added = false
		for name, text := range views {
			if !only[name] && namesAny(text, only) {
				only[name], added = true, true
				out = append(out, name)
			}
		}
	}
	return out
}

// namesAny reports whether text names one of names (lower case) as a word or quoted name.
func namesAny(text string, names map[string]bool) bool {
	for _, t := range Tokens(text) {
		if (t.Kind == TokenWord || t.Kind == TokenQuoted) && names[strings.ToLower(t.Value(text))] {
			return true
		}
	}
	return false
}

// statements splits SQL text at its semicolons, as SQLite's tokenizer draws them.
func statements(text string) []string {
	var out []string
	start := 0
	for _, t := range Tokens(text) {
		if t.Kind == TokenPunct && text[t.Start] == ';' {
			if s := text[start:t.Start]; strings.TrimSpace(stripComments(s)) != "" {
				out = append(out, s)
			}
			start = t.End
		}
	}
	return out
}

// stripComments removes the comments of text, keeping everything else as written.
func stripComments(text string) string {
	var b strings.Builder
	for _, t := range Tokens(text) {
		if t.Kind != TokenComment {
			b.WriteString(t.Text(text))
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// DirectReadable reports whether sqlText is statements a direct database answers as an
// index would: reads only (SELECT, or WITH and VALUES without a write), none naming a table
// that only an index keeps. Anything else needs an index.
func DirectReadable(sqlText string) bool {
	indexOnly := map[string]bool{}
	for _, t := range IndexOnlyTables() {
		indexOnly[t] = true
	}
	stmts := statements(sqlText + "\n;") // a newline ends a closing -- comment
	if len(stmts) == 0 {
		return false
	}
	for _, st := range stmts {
		if !readOnlyStatement(st, indexOnly) {
			return false
		}
	}
	return true
}

// readOnlyStatement reports whether one statement reads only, and only the direct tables.
func readOnlyStatement(st string, indexOnly map[string]bool) bool {
	first := true
	for _, t := range Tokens(st) {
		if t.Kind != TokenWord && t.Kind != TokenQuoted {
			if t.Kind == TokenPunct && st[t.Start] == '.' && first {
				return false // a dot command
			}
			continue
		}
		w := strings.ToLower(t.Value(st))
		if first && w != "select" && w != "with" && w != "values" {
			return false
		}
		first = false
		switch {
		case indexOnly[w]:
			return false
		case t.Kind == TokenWord && (w == "insert" || w == "update" || w == "delete" || w == "replace" ||
			w == "create" || w == "drop" || w == "attach" || w == "pragma"):
			return false
		}
	}
	return !first
}
