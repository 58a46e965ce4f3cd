package postfix_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// hostile is a queue file as a spammer could make Postfix write it: terminal escapes and bidi
// controls in the Subject, a header split into L records, a field with blanks before its
// colon, an RFC 2047 Subject, and a body of several lines.
func hostile() []byte {
	long := "X-Long: " + strings.Repeat("h", 2040)
	envelope := recs(
		rec('T', "1795865417 207798"), rec('A', "create_time=1795865417"), rec('A', "rewrite_context=remote"),
		rec('S', "spam@evil.test"), rec('A', "client_address=192.0.2.7"), rec('O', "victim@remote.test"),
		rec('R', "victim@remote.test"), rec('M', ""))
	content := recs(
		rec('N', "Subject: \x1b]0;pwned\x07\x1b[2J hello \u202egnp.exe"),
		rec('L', long[:2048]), rec('N', long[2048:]),
		rec('N', "X-Spaced : value"),
		rec('N', "X-Encoded: =?UTF-8?B?R3LDvMOfZQ==?="),
		rec('N', "Received: from a"), rec('N', "\tby b"), rec('N', "Received: from c"),
		rec('N', ""), rec('N', "body 1"), rec('N', "body \x1b[31mred"), rec('N', ""), rec('N', "last"))
	// The C record is 97 bytes long (type, length byte, six 15-column fields), as cleanup writes it.
	dataOffset := 97 + len(envelope)
	size := rec('C', fmt.Sprintf("%15d %15d %15d %15d %15d %15d", len(content), dataOffset, 1, 0, len(content), 0))
	return recs(size, envelope, content, rec('X', ""), rec('E', ""))
}

// testSpool copies testdata/spool and adds the hostile message to hold.
func testSpool(t *testing.T) string {
	t.Helper()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	if err := os.WriteFile(filepath.Join(dir, "hold", "4jcHOST1LEz5xx1"), hostile(), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestHeaders(t *testing.T) {
	sp := openSpool(t, testSpool(t))
	tests := []struct {
		id, name string
		want     []string // values of every field called name, in order
	}{
		{"4jc7PP1W6fzdXSJ", "Subject", []string{"three recipients test"}},
		{"4jc7PP1W6fzdXSJ", "received", []string{"by mx.example.test (Postfix, from userid 0)\tid 4jc7PP1W6fzdXSJ; Sat, 28 Nov 2026 11:30:17 +0000 (UTC)"}},
		{"4jc7PP1W6fzdXSJ", "X-Nope", nil},
		{"4jc7Pl4JPWzdZKp", "Subject", []string{"Grüße SMTPUTF8"}},
		{"4jcHOST1LEz5xx1", "X-Encoded", []string{"Grüße"}},
		{"4jcHOST1LEz5xx1", "X-Spaced", []string{"value"}},
		{"4jcHOST1LEz5xx1", "X-Long", []string{strings.Repeat("h", 2040)}},
		{"4jcHOST1LEz5xx1", "Received", []string{"from a\tby b", "from c"}},
		{"4jcHOST1LEz5xx1", "Subject", []string{"\x1b]0;pwned\x07\x1b[2J hello \u202egnp.exe"}},
	}
	for _, tt := range tests {
		fields, err := sp.Headers(tt.id)
		if err != nil {
			t.Fatalf("Headers(%s): %v", tt.id, err)
		}
		var got []string
		for _, f := range fields {
			if strings.EqualFold(strings.TrimSpace(f.Name), tt.name) {
				got = append(got, f.Value)
			}
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("%s %s = %q, want %q", tt.id, tt.name, got, tt.want)
		}
	}
}

func TestHeader(t *testing.T) {
	sp := openSpool(t, testSpool(t))
	tests := []struct {
		id, name string
		limit    int
		want     string
		found    bool
	}{
		{"4jcHOST1LEz5xx1", "received", 100, "from a\tby b\nfrom c", true},
		{"4jcHOST1LEz5xx1", "Received", 8, "from a\tb", true},
		{"4jcHOST1LEz5xx1", "X-Nope", 100, "", false},
		{"4jcHOST1LEz5xx1", "X-Encoded", 3, "Gr", true}, // "Grü…": not cut inside "ü"
		{"4jc7Pl4JPWzdZKp", "Subject", 100, "Grüße SMTPUTF8", true},
	}
	for _, tt := range tests {
		got, found, err := sp.Header(tt.id, tt.name, tt.limit)
		if err != nil {
			t.Fatalf("Header(%s, %s): %v", tt.id, tt.name, err)
		}
		if got != tt.want || found != tt.found {
			t.Errorf("Header(%s, %s, %d) = %q, %v; want %q, %v", tt.id, tt.name, tt.limit, got, found, tt.want, tt.found)
		}
	}
}

func TestBody(t *testing.T) {
	sp := openSpool(t, testSpool(t))
	tests := []struct {
		id    string
		limit int
		want  string
		more  bool
	}{
		{"4jc7PP1W6fzdXSJ", 1000, "Hello body line 1\nline 2", false},
		{"4jc7PP1W6fzdXSJ", 8, "Hello bo", true},
		{"4jcHOST1LEz5xx1", 1000, "body 1\nbody \x1b[31mred\n\nlast", false},
		{"4jc7Pl4JPWzdZKp", 2, "H", true}, // "Hä…": not cut inside "ä"
	}
	for _, tt := range tests {
		got, more, err := sp.Body(tt.id, tt.limit)
		if err != nil {
			t.Fatalf("Body(%s): %v", tt.id, err)
		}
		if string(got) != tt.want || more != tt.more {
			t.Errorf("Body(%s, %d) = %q, %v; want %q, %v", tt.id, tt.limit, got, more, tt.want, tt.more)
		}
	}
}

func TestReadMessageErrors(t *testing.T) {
	dir := testSpool(t)
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "active", "4jcLINK1LEz5xx1")); err != nil {
		t.Fatal(err)
	}
	sp := openSpool(t, dir)
	none := func(postfix.Record) error { return nil }
	if _, err := sp.ReadMessage("4jcNONE1LEz5xx1", none); !errors.Is(err, postfix.ErrNoMessage) {
		t.Errorf("missing message: err = %v, want ErrNoMessage", err)
	}
	if _, err := sp.ReadMessage("../../etc/passwd", none); err == nil || !strings.Contains(err.Error(), "bad mail queue ID") {
		t.Errorf("bad queue ID: err = %v", err)
	}
	if _, err := sp.ReadMessage("4jcLINK1LEz5xx1", none); err == nil || errors.Is(err, postfix.ErrNoMessage) {
		t.Errorf("symbolic link: err = %v, want a refusal", err)
	}
	if _, err := sp.ReadMessage("4jcBADF1LEz5xx1", none); !errors.Is(err, postfix.ErrNoMessage) {
		t.Errorf("corrupt is not searched: err = %v", err)
	}
	loc, err := sp.ReadMessage("4jc7PP1W6fzdXSJ", none)
	if err != nil || loc != (postfix.Location{Queue: "deferred", Path: "deferred/3/4jc7PP1W6fzdXSJ"}) {
		t.Errorf("ReadMessage = %+v, %v", loc, err)
	}
}

// TestPostcatAgreesWithPostcat compares Postcat with Postfix's own postcat -q on every queue
// file of the test spools and the samples, for each combination of -e, -h and -b. postcat -c
// reads a main.cf that points it at the copy.
func TestPostcatAgreesWithPostcat(t *testing.T) {
	postcat, err := exec.LookPath("postcat")
	if err != nil {
		for _, p := range []string{"/usr/sbin/postcat", "/usr/local/sbin/postcat"} {
			if _, err := os.Stat(p); err == nil {
				postcat = p
			}
		}
	}
	if postcat == "" {
		t.Skip("postcat is not installed")
	}
	roots := []string{testSpool(t)}
	samples, _ := filepath.Glob(testspool.Dir(t, "samples/*"))
	for _, s := range samples {
		roots = append(roots, testspool.Copy(t, s))
	}
	flags := []string{"", "-e", "-h", "-b", "-hb", "-eh", "-eb"}
	seen := map[string]bool{}
	for _, root := range roots {
		conf := t.TempDir()
		cf := "queue_directory = " + root + "\nhash_queue_names = deferred, defer\nhash_queue_depth = 1\ncompatibility_level = 3.6\n"
		if err := os.WriteFile(filepath.Join(conf, "main.cf"), []byte(cf), 0o644); err != nil {
			t.Fatal(err)
		}
		sp := openSpool(t, root)
		for _, id := range queueIDs(t, root, seen) {
			longHeader := hasLongHeader(t, sp, id)
			for _, f := range flags {
				if strings.Contains(f, "b") && !strings.Contains(f, "h") && longHeader {
					continue // postcat -b takes the rest of an L-split header line for the body
				}
				args := []string{"-c", conf, "-q", id}
				if f != "" {
					args = append([]string{f}, args...)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				want, pcErr := exec.CommandContext(ctx, postcat, args...).Output()
				cancel()
				var got bytes.Buffer
				// A damaged file makes both stop with an error after what they could show.
				if err := sp.Postcat(&got, id, parts(f)); (err != nil) != (pcErr != nil) {
					t.Errorf("Postcat(%s, %q): error %v, postcat: %v", id, f, err, pcErr)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("Postcat(%s, %q) differs from postcat:\n%s\npostcat:\n%s", id, f, got.Bytes(), want)
				}
			}
		}
	}
}

func parts(flags string) postfix.PostcatParts {
	return postfix.PostcatParts{
		Envelope: strings.Contains(flags, "e"),
		Header:   strings.Contains(flags, "h"),
		Body:     strings.Contains(flags, "b"),
	}
}

// queueIDs lists the complete files postcat -q can find below root whose content is not in
// seen yet (the samples repeat files of the test spool). Files still being written are left
// out: postcat -e loops forever on the partial sample's all-zero C record.
func queueIDs(t *testing.T, root string, seen map[string]bool) []string {
	t.Helper()
	var ids []string
	for _, q := range []string{"maildrop", "incoming", "active", "deferred", "hold"} {
		filepath.WalkDir(filepath.Join(root, q), func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || !postfix.ValidQueueID(d.Name()) {
				return nil
			}
			b, _ := os.ReadFile(path)
			if fi, err := d.Info(); err == nil && fi.Mode()&0o100 != 0 && !seen[string(b)] {
				seen[string(b)] = true
				ids = append(ids, d.Name())
			}
			return nil
		})
	}
	return ids
}

// hasLongHeader reports whether a header line of id is split into L records.
func hasLongHeader(t *testing.T, sp *postfix.Spool, id string) bool {
	t.Helper()
	found := false
	sp.ReadMessage(id, func(r postfix.Record) error {
		if r.Part == postfix.Header && r.Type == 'L' {
			found = true
		}
		return nil
	})
	return found
}
