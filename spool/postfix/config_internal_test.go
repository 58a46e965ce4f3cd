package postfix

import (
	"reflect"
	"testing"
)

func TestParsePostconf(t *testing.T) {
	got, err := parsePostconf([]byte("/var/spool/postfix\ndeferred, defer,Hold\n2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{QueueDirectory: "/var/spool/postfix", HashQueueNames: []string{"deferred", "defer", "hold"}, HashQueueDepth: 2}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	for _, bad := range []string{"", "/x\ndeferred\n", "/x\ndeferred\nmany\n", "/x\n\n-1\n"} {
		if _, err := parsePostconf([]byte(bad)); err == nil {
			t.Errorf("parsePostconf(%q) gave no error", bad)
		}
	}
}
