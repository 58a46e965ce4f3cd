package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/mqsql/mqsql/index"
)

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := &progress{w: &b}
	p.update(index.Stats{Read: 12, Elapsed: time.Millisecond}) // the end of a small load
	p.clear()
	if b.Len() != 0 {
		t.Errorf("a load of 12 messages showed %q", b.String())
	}
	p.update(index.Stats{Read: 5000, Elapsed: 2 * time.Second})
	p.update(index.Stats{Read: 10000, Elapsed: 4 * time.Second})
	p.clear()
	want := "\rmqsql: indexing the queue: 5000 messages read (2500/s, 2s)\x1b[K" +
		"\rmqsql: indexing the queue: 10000 messages read (2500/s, 4s)\x1b[K" +
		"\r\x1b[K"
	if b.String() != want {
		t.Errorf("progress shows %q, want %q", b.String(), want)
	}
}

// TestNoProgressWithoutTerminal checks that a script's stderr gets nothing.
func TestNoProgressWithoutTerminal(t *testing.T) {
	ix, err := index.Open(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var b bytes.Buffer
	done := showProgress(ix, &b)
	if ix.OnProgress != nil {
		t.Error("progress hooked up for a stderr that is not a terminal")
	}
	done()
	if b.Len() != 0 {
		t.Errorf("stderr got %q", b.String())
	}
}
