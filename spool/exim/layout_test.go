package exim_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/spool/exim"
)

// TestClassify checks what each spool path means to a watcher: every file of a message names
// its ID and points at its -H, temporaries and hints databases name nothing.
func TestClassify(t *testing.T) {
	sp := openSpool(t, "testdata/exim/spool")
	const id = plainID
	tests := []struct {
		rel  string
		ok   bool
		want mqsql.Change
	}{
		{"input", true, mqsql.Change{Top: true}},
		{"input/" + id + "-H", true, mqsql.Change{ID: id, Hint: "input/" + id + "-H"}},
		{"input/" + id + "-D", true, mqsql.Change{ID: id}}, // written before its -H
		{"input/" + id + "-J", true, mqsql.Change{ID: id, Hint: "input/" + id + "-H"}},
		{"input/hdr." + id, true, mqsql.Change{}},
		{"input/W", true, mqsql.Change{MaybeDir: true}},
		{"input/W/" + id + "-H", true, mqsql.Change{ID: id, Hint: "input/W/" + id + "-H"}},
		{"msglog/" + id, true, mqsql.Change{ID: id}},
		{"msglog/W/" + id, true, mqsql.Change{ID: id}},
		{"Finput/" + id + "-H", true, mqsql.Change{ID: id, Hint: "Finput/" + id + "-H"}},
		{"slowq", true, mqsql.Change{Top: true}},
		{"slowq/input", true, mqsql.Change{MaybeDir: true}},
		{"slowq/input/" + id + "-J", true, mqsql.Change{ID: id, Hint: "slowq/input/" + id + "-H"}},
		{"slowq/input/" + id + "-D", true, mqsql.Change{ID: id}},
		{"slowq/msglog/" + id, true, mqsql.Change{ID: id}},
		{"db/retry", false, mqsql.Change{}},
		{"newq", true, mqsql.Change{MaybeDir: true}}, // maybe a named queue being made
		{"newq/input", true, mqsql.Change{MaybeDir: true}},
		{"newq/input/" + id + "-H", true, mqsql.Change{ID: id, Hint: "newq/input/" + id + "-H"}},
		{".nfs0001", false, mqsql.Change{}},
		{"exim-process.info", false, mqsql.Change{}},
	}
	for _, tt := range tests {
		got, ok := sp.Classify(tt.rel)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Classify(%q) = %+v, %v; want %+v, %v", tt.rel, got, ok, tt.want, tt.ok)
		}
	}
	if got := strings.Join(sp.WatchedDirs(), " "); got != "input msglog Finput Fmsglog slowq" {
		t.Errorf("WatchedDirs = %s", got)
	}
}

// TestValidQueueID accepts both of Exim's ID formats and nothing that could be a path.
func TestValidQueueID(t *testing.T) {
	for id, want := range map[string]bool{
		"1xYTuW-00009O-26": true, "1xYTsL-0000000078y-0EQ9": true, "1xYTuW-00009O-2": false,
		"1xYTuW_00009O-26": false, "../../etc/passw": false, "1xYTuW-00009O-2/": false, "": false,
	} {
		if exim.ValidQueueID(id) != want {
			t.Errorf("ValidQueueID(%q) = %v", id, !want)
		}
	}
}

// TestContent reads headers and bodies of sample messages: only headers Exim would send, RFC
// 2047 decoded; the body is the -D after its ID line.
func TestContent(t *testing.T) {
	sp := openSpool(t, "testdata/exim/spool")
	if v, ok, err := sp.Header("1xYTuW-00009j-2J", "subject", 100); err != nil || !ok || v != "Grüße aus Köln – Übersicht" {
		t.Errorf("Header subject = %q %v %v", v, ok, err)
	}
	// -t kept the input Bcc: as a deleted header.
	if _, ok, err := sp.Header("1xYTuX-0000Au-00", "Bcc", 100); ok || err != nil {
		t.Errorf("Header Bcc found %v %v, want a deleted header hidden", ok, err)
	}
	body, more, err := sp.Body(plainID, 6)
	if err != nil || string(body) != "Hello " || !more {
		t.Errorf("Body = %q %v %v", body, more, err)
	}
	body, more, err = sp.Body(plainID, 1000)
	if err != nil || string(body) != "Hello Bob.\nSecond line.\n" || more {
		t.Errorf("Body = %q %v %v", body, more, err)
	}
	var b bytes.Buffer
	if err := sp.Postcat(&b, "1xYTuW-0000AV-2y", mqsql.ContentParts{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"done_recipient: a@local.test\n", "recipient: b@remote.test\n", "Subject: partly delivered\n", "*** MESSAGE CONTENTS input/1xYTuW-0000AV-2y-H ***\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Postcat lacks %q:\n%s", want, b.String())
		}
	}
	if _, _, err := sp.Header("1xYTuW-0000ZZ-26", "Subject", 10); !errors.Is(err, mqsql.ErrNoMessage) {
		t.Errorf("Header of a missing message: %v", err)
	}
}

// TestDetect tells an Exim spool from a Postfix queue directory and from other directories.
func TestDetect(t *testing.T) {
	for dir, want := range map[string]bool{
		"testdata/exim/spool":        true,
		"testdata/exim/spool-split":  true,
		"testdata/exim/spool-extras": true,
		"../../testdata/spool":       false,
		"testdata/exim/listings":     false,
		"testdata/nonexistent":       false,
	} {
		if got := exim.Detect(dir); got != want {
			t.Errorf("Detect(%s) = %v, want %v", dir, got, want)
		}
	}
}
