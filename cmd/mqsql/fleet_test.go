package main

import (
	"strings"
	"testing"
)

// TestFleetUsage: what a fleet cannot run is a usage error (exit 2) before any host is asked;
// the ssh command here would fail every host, so reaching one would show as exit 1.
func TestFleetUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"merge without hosts", []string{"--merge", "SELECT 1", "SELECT 1"}, "--merge needs --hosts"},
		{"no statement", []string{"--hosts", "a"}, "needs the statement"},
		{"delete", []string{"--hosts", "a", "DELETE FROM messages WHERE sender = 'x'"}, "read statements only"},
		{"update", []string{"--hosts", "a", "UPDATE messages SET queue = 'hold' WHERE 1"}, "read statements only"},
		{"dot-command", []string{"--hosts", "a", ".cat 4jc7PP1W6fzdXSJ"}, "read statements only"},
		{"parallel", []string{"--hosts", "a", "--parallel", "0", "SELECT 1"}, "--parallel 0"},
		{"twice", []string{"--hosts", "a,a", "SELECT 1"}, "named twice"},
		{"empty", []string{"--hosts", ",", "SELECT 1"}, "names no host"},
		{"ssh quoting", []string{"--hosts", "a", "--ssh", `ssh "-F`, "SELECT 1"}, "ssh command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--ssh", "/nonexistent/ssh"}, tt.args...)
			out, errs, code := fleetRun(t, args...)
			if code != exitUsage || !strings.Contains(errs, tt.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 saying %q", code, out, errs, tt.want)
			}
		})
	}
}

// TestFleetUnreachableSSH: an ssh command that cannot start fails every host, each named,
// with exit status 1 and nothing on stdout but the header.
func TestFleetUnreachableSSH(t *testing.T) {
	out, errs, code := fleetRun(t, "--hosts", "a,b", "--ssh", "/nonexistent/ssh", "--format", "csv", "SELECT 1")
	if code != exitError || out != "host\n" || !strings.Contains(errs, "mqsql: a: unreachable: ") || !strings.Contains(errs, "mqsql: b: unreachable: ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}
