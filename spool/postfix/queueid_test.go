package postfix_test

import (
	"strings"
	"testing"

	"github.com/mqsql/mqsql/spool/postfix"
)

func TestRelPath(t *testing.T) {
	def := postfix.DefaultConfig()
	deep := postfix.Config{HashQueueNames: []string{"deferred", "defer", "hold"}, HashQueueDepth: 2}
	tests := []struct {
		cfg   postfix.Config
		queue string
		id    string
		want  string
	}{
		{def, "deferred", "4jc7PP1W6fzdXSJ", "deferred/3/4jc7PP1W6fzdXSJ"},
		{def, "defer", "4jc7Pl4JPWzdZKp", "defer/9/4jc7Pl4JPWzdZKp"},
		{def, "deferred", "4jc7Q04hWyzdZKs", "deferred/A/4jc7Q04hWyzdZKs"},
		{def, "deferred", "4jc7R74XMszdZL1", "deferred/9/4jc7R74XMszdZL1"},
		{def, "deferred", "343CA43ECDF", "deferred/3/343CA43ECDF"},
		{def, "hold", "4jc7PP1W6fzdXSJ", "hold/4jc7PP1W6fzdXSJ"},
		{def, "incoming", "343CA43ECDF", "incoming/343CA43ECDF"},
		{deep, "hold", "343CA43ECDF", "hold/3/4/343CA43ECDF"},
		{deep, "deferred", "4jc7PP1W6fzdXSJ", "deferred/3/4/4jc7PP1W6fzdXSJ"},
		{postfix.Config{HashQueueNames: []string{"deferred"}, HashQueueDepth: 3}, "deferred", "A", "deferred/A/_/_/A"},
	}
	for _, tt := range tests {
		if got := tt.cfg.RelPath(tt.queue, tt.id); got != tt.want {
			t.Errorf("RelPath(%s, %s) depth %d = %s, want %s", tt.queue, tt.id, tt.cfg.HashQueueDepth, got, tt.want)
		}
	}
}

func TestValidQueueID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"4jc7PP1W6fzdXSJ", true},
		{"343CA43ECDF", true},
		{"example_com", true},
		{"", false},
		{"4jc7PP1W6fzdXSJ*", false},
		{"../etc/passwd", false},
		{"12345.6789", false},
		{"a b", false},
		{"ID#FIX", false},
		{strings.Repeat("A", 255), true},
		{strings.Repeat("A", 256), false},
	}
	for _, tt := range tests {
		if got := postfix.ValidQueueID(tt.id); got != tt.want {
			t.Errorf("ValidQueueID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestIsLongQueueID(t *testing.T) {
	for id, want := range map[string]bool{"4jc7PP1W6fzdXSJ": true, "343CA43ECDF": false, "zzzz": false, "4jc7R74XMszdZL1": true} {
		if got := postfix.IsLongQueueID(id); got != want {
			t.Errorf("IsLongQueueID(%q) = %v, want %v", id, got, want)
		}
	}
}
