// Package mqsql holds the domain of the mqsql tool: a Postfix mail queue seen as an SQL
// database. It names the queues, the messages and recipients read from queue files, and it
// carries the SQL schema that every index is built from, so that the spool reader (package
// spool), the SQLite index (package index) and the command line agree on one vocabulary.
package mqsql

import (
	_ "embed"
)

// Schema is the SQL that creates an empty index. It lives at the module root, next to the
// domain types it stores, because scripts and users depend on its table and column names.
//
//go:embed schema.sql
var Schema string

// Tables and Views name what users query, for help texts and completion: the schema also
// holds the tables behind the views (queue_files, queue_recipients), which are mqsql's own.
var (
	Tables = []string{"messages", "recipients", "events", "deliveries", "log_messages"}
	Views  = []string{"qshape", "qshape_senders", "reasons", "senders", "timeline", "delivered"}
)
