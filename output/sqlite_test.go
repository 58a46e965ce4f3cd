package output_test

import (
	"bytes"
	"database/sql"
	"testing"
	"time"

	"github.com/mqsql/mqsql/output"
	_ "modernc.org/sqlite"
)

// The renderers are fed what database/sql with modernc.org/sqlite returns; this pins those
// types, so that a driver upgrade that changes them shows up here and not on a user's
// screen. (A BOOLEAN column scans into any as int64, not bool; DATETIME as time.Time.)
func TestValuesFromSQLite(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Exec(`CREATE TABLE m (id INTEGER, score REAL, subject TEXT, raw BLOB, urgent BOOLEAN, arrived DATETIME, other)`)
	if err != nil {
		t.Fatal(err)
	}
	arrived := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	_, err = db.Exec(`INSERT INTO m VALUES (?, ?, ?, ?, ?, ?, NULL)`,
		int64(-9223372036854775808), 0.1, "\x1b[2J\u202eevil", []byte{0xff, 0x00}, true, arrived)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT id, score, subject, raw, urgent, arrived, other, 1e20 FROM m`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var list, json bytes.Buffer
	lr := output.New(&list, output.Options{Format: output.List, Escape: true, NullValue: "NULL"})
	jr := output.New(&json, output.Options{Format: output.JSONL})
	for _, r := range []output.Renderer{lr, jr} {
		if err := r.Begin(columns); err != nil {
			t.Fatal(err)
		}
	}
	values := make([]any, len(columns))
	ptrs := make([]any, len(columns))
	for i := range values {
		ptrs[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, r := range []output.Renderer{lr, jr} {
			if err := r.Row(values); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []output.Renderer{lr, jr} {
		if err := r.End(); err != nil {
			t.Fatal(err)
		}
	}
	wantList := `-9223372036854775808|0.1|\x1b[2J\u202eevil|\xff\x00|1|2026-03-14 15:09:26+00:00|NULL|1.0e+20` + "\n"
	if list.String() != wantList {
		t.Errorf("list:\n got %q\nwant %q", list.String(), wantList)
	}
	wantJSON := `{"id":-9223372036854775808,"score":0.1,"subject":"\u001b[2J\u202eevil","raw":"/wA=","urgent":1,"arrived":"2026-03-14 15:09:26+00:00","other":null,"1e20":1.0e+20}` + "\n"
	if json.String() != wantJSON {
		t.Errorf("jsonl:\n got %s\nwant %s", json.String(), wantJSON)
	}
}
