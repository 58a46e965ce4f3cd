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

// TestAddrSpec checks the one address parser on values as MTAs store them: Sendmail keeps a
// recipient as written (RPFD:Donkey <admin@dockerdonkey.com>, seen in a real capture and made
// by the real Sendmail in TestStoredAddresses), Postfix and Exim the bare address.
func TestAddrSpec(t *testing.T) {
	tests := []struct {
		stored, spec, domain, local string
	}{
		{"Donkey <admin@DockerDonkey.com>", "admin@DockerDonkey.com", "dockerdonkey.com", "admin"},
		{"<admin@dockerdonkey.com>", "admin@dockerdonkey.com", "dockerdonkey.com", "admin"},
		{`"Donkey, <the>" < admin@x.test >`, "admin@x.test", "x.test", "admin"},
		{"<@relay.test,@hop.test:user@x.test>", "user@x.test", "x.test", "user"},
		{"Root <root>", "root", "", "root"},
		{"<>", "", "", ""},
		{"user@x.test", "user@x.test", "x.test", "user"},
		{"a<b@x.test", "a<b@x.test", "x.test", "a<b"},
		{"brief sp@x.test", "brief sp@x.test", "x.test", "brief sp"},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		if got := mqsql.AddrSpec(tt.stored); got != tt.spec {
			t.Errorf("AddrSpec(%q) = %q, want %q", tt.stored, got, tt.spec)
		}
		if got := mqsql.Domain(tt.stored); got != tt.domain {
			t.Errorf("Domain(%q) = %q, want %q", tt.stored, got, tt.domain)
		}
		if got := mqsql.LocalPart(tt.stored); got != tt.local {
			t.Errorf("LocalPart(%q) = %q, want %q", tt.stored, got, tt.local)
		}
	}
}
