package mqsql_test

import (
	"testing"

	"github.com/mqsql/mqsql"
)

func TestAddress(t *testing.T) {
	tests := []struct {
		addr, domain, local, quoted string
	}{
		{"user@Example.NET", "example.net", "user", "user@Example.NET"},
		{"brief sp@x.test", "x.test", "brief sp", `"brief sp"@x.test`},
		{"a.b.c@x", "x", "a.b.c", "a.b.c@x"},
		{".lead@x", "x", ".lead", `".lead"@x`},
		{"two..dots@x", "x", "two..dots", `"two..dots"@x`},
		{`q"uote@x`, "x", `q"uote`, `"q\"uote"@x`},
		{"плохой@remote.test", "remote.test", "плохой", "плохой@remote.test"},
		{"root", "", "root", "root"},
		{"a@b@c.test", "c.test", "a@b", `"a@b"@c.test`},
	}
	for _, tt := range tests {
		if got := mqsql.Domain(tt.addr); got != tt.domain {
			t.Errorf("Domain(%q) = %q, want %q", tt.addr, got, tt.domain)
		}
		if got := mqsql.LocalPart(tt.addr); got != tt.local {
			t.Errorf("LocalPart(%q) = %q, want %q", tt.addr, got, tt.local)
		}
		got := mqsql.QuoteLocal(tt.addr)
		if got != tt.quoted {
			t.Errorf("QuoteLocal(%q) = %q, want %q", tt.addr, got, tt.quoted)
		}
		if back := mqsql.UnquoteLocal(got); back != tt.addr {
			t.Errorf("UnquoteLocal(%q) = %q, want %q", got, back, tt.addr)
		}
	}
}
