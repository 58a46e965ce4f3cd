package postfix_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rec encodes one queue-file record: type, base-128 length, payload.
func rec(typ byte, payload string) []byte {
	b := []byte{typ}
	n := len(payload)
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			b = append(b, c|0x80)
			continue
		}
		b = append(b, c)
		break
	}
	return append(b, payload...)
}

func recs(rs ...[]byte) []byte { return bytes.Join(rs, nil) }

// minimal is a well-formed queue file without a C record, as postdrop writes them.
func minimal() []byte {
	return recs(rec('T', "1795865417 1"), rec('S', "a@x.test"), rec('R', "b@y.test"), rec('M', ""),
		rec('N', "Subject: hi"), rec('N', ""), rec('N', "body"), rec('X', ""), rec('E', ""))
}

func readOne(t *testing.T, content []byte) (errText string, recipients int) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "hold"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hold", "4jc7PP1W6fzdXSJ"), content, 0o700); err != nil {
		t.Fatal(err)
	}
	msgs := readAll(t, openSpool(t, dir))
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	return msgs[0].Error, len(msgs[0].Recipients)
}

func TestDamagedFiles(t *testing.T) {
	good := minimal()
	// A pointer to itself: its offset is the length of the two records before it.
	self := int64(len(recs(rec('T', "1 1"), rec('S', "a@x.test"))))
	loop := recs(rec('T', "1 1"), rec('S', "a@x.test"), rec('p', fmt.Sprintf("%15d", self)))
	tests := []struct {
		name    string
		content []byte
		want    string // substring of the error; "" = clean
	}{
		{"clean", good, ""},
		{"empty", nil, "no end record"},
		{"truncated payload", good[:len(good)-5], "truncated"},
		{"no end record", good[:len(good)-2], "no end record"},
		{"not a queue file", []byte("hello world, not a queue file"), "not a queue file"},
		{"no sender", recs(rec('T', "1 1"), rec('M', ""), rec('X', ""), rec('E', "")), "no sender record"},
		{"length too long", append([]byte{'T', 0xff, 0xff, 0xff, 0xff, 0x01}, good...), "too many bytes"},
		{"length over limit", append([]byte{'T', 0x80, 0x80, 0x80, 0x01}, good...), "exceeds"},
		{"pointer loop", loop, "pointer loop"},
		{"pointer past end", recs(rec('T', "1 1"), rec('S', "a@x.test"), rec('p', fmt.Sprintf("%15d", 99999))), "beyond the end"},
		{"bad pointer", recs(rec('T', "1 1"), rec('S', "a@x.test"), rec('p', "abc")), "bad pointer"},
		{"second sender", recs(rec('T', "1 1"), rec('S', "a@x.test"), rec('S', "b@x.test"), rec('M', ""), rec('X', ""), rec('E', "")), "second sender"},
		{"recipient before sender", recs(rec('T', "1 1"), rec('R', "b@x.test"), rec('S', "a@x.test"), rec('M', ""), rec('X', ""), rec('E', "")), "before the sender"},
		{"unknown type in envelope", recs(rec('T', "1 1"), rec('S', "a@x.test"), rec('Q', "x"), rec('M', ""), rec('X', ""), rec('E', "")), "unexpected record type"},
		{"envelope type in content", recs(rec('T', "1 1"), rec('S', "a@x.test"), rec('M', ""), rec('S', "x"), rec('X', ""), rec('E', "")), "content segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := readOne(t, tt.content)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("Error = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}
