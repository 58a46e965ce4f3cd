// Package hosttest starts real mail hosts on one machine for mqsql's fleet tests: each host
// is a mount and UTS namespace (unshare --mount --uts) with its own hostname, its own copies
// of /etc/postfix, /var/spool/postfix and /var/lib/postfix (bind mounts), its own running
// Postfix and its own OpenSSH sshd on a loopback address, and, unless told otherwise, the
// mqsql under test on its PATH. Sessions that sshd starts run inside the namespace, so the
// mqsql there sees that host's Postfix and nothing of the machine's own queue.
//
// Tests call Start; it skips when the machine cannot host them (not root, no sshd, no
// Postfix configured by .ci/postfix-setup), or fails when MQSQL_REQUIRE_SSH=1, as in CI.
// Every process it starts is stopped in t.Cleanup. Mail cannot leave: each host's copy of
// the configuration keeps .ci/postfix-setup's relayhost, a closed loopback port, and its
// inet services (smtpd on port 25) are turned off, so hosts never bind the machine's ports.
package hosttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RequireEnv names the variable that turns Start's skips into failures.
const RequireEnv = "MQSQL_REQUIRE_SSH"

// marker is the line .ci/postfix-setup writes into main.cf: a host is only copied from a
// Postfix configured so that its mail cannot leave.
const marker = "# mqsql-test-config"

// Spec describes one host to start.
type Spec struct {
	Name    string // the SSH destination (an alias in the ssh_config Start writes) and hostname
	NoMqsql bool   // leave mqsql off this host's PATH
	// ReadOnly forces "mqsql ssh-reader" on the key (command= in authorized_keys), as the
	// README's read-only set-up does.
	ReadOnly bool
}

// Fleet is a set of running hosts and the ssh set-up that reaches them.
type Fleet struct {
	Hosts     []*Host
	SSHConfig string // an ssh_config naming every host (and Down) with its address and key
	Down      string // a destination in SSHConfig where nothing listens
	dir       string
}

// SSH is the ssh command that reaches the hosts, as --ssh and $MQSQL_SSH take it.
func (f *Fleet) SSH() string { return "ssh -F " + f.SSHConfig }

// Host returns the host called name.
func (f *Fleet) Host(name string) *Host {
	for _, h := range f.Hosts {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// Start starts one host per spec and returns when every sshd accepts connections. The
// mqsql binary put on the hosts' PATH is mqsqlBin (see Build).
func Start(t testing.TB, mqsqlBin string, specs ...Spec) *Fleet {
	t.Helper()
	require(t)
	dir := t.TempDir()
	f := &Fleet{dir: dir, Down: "down"}
	key := filepath.Join(dir, "id_ed25519")
	mustRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "mqsql-hosttest", "-f", key)
	for i, s := range specs {
		h := newHost(t, dir, s, i)
		h.start(t, mqsqlBin, key+".pub", s)
		f.Hosts = append(f.Hosts, h)
	}
	f.SSHConfig = writeSSHConfig(t, dir, key, f.Hosts)
	for _, h := range f.Hosts {
		h.waitReady(t)
	}
	return f
}

// require skips or fails the test when this machine cannot host namespaced hosts.
func require(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "hosts need root (namespaces, bind mounts, Postfix)"
	}
	for _, tool := range []string{"/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen", "/usr/bin/unshare", "/usr/bin/nsenter", "/usr/sbin/postfix"} {
		if _, err := os.Stat(tool); why == "" && err != nil {
			why = tool + " is missing (apt-get install openssh-server postfix)"
		}
	}
	if b, err := os.ReadFile("/etc/postfix/main.cf"); why == "" && (err != nil || !strings.Contains(string(b), marker)) {
		why = "/etc/postfix/main.cf was not configured by .ci/postfix-setup"
	}
	if why == "" {
		return
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("hosttest: %s (%s=1)", why, RequireEnv)
	}
	t.Skipf("hosttest: %s; set %s=1 to fail instead", why, RequireEnv)
}

// Build compiles mqsql for the hosts into a temporary folder of t.
func Build(t testing.TB) string {
	t.Helper()
	require(t)
	bin := filepath.Join(t.TempDir(), "mqsql")
	// A loaded CI machine (go test ./... builds every package at once) took over 5 minutes;
	// the test binary's own -timeout is the real bound.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := d.Deadline(); ok {
			cancel()
			ctx, cancel = context.WithDeadline(context.Background(), end.Add(-30*time.Second))
		}
	}
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool(), "build", "-o", bin, "github.com/mqsql/mqsql/cmd/mqsql").CombinedOutput()
	if err != nil {
		t.Fatalf("hosttest: go build mqsql: %v\n%s", err, out)
	}
	return bin
}

// goTool is the go command that runs this test.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// mustRun runs a command that must succeed.
func mustRun(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("hosttest: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// writeSSHConfig writes the ssh_config that maps host names to their addresses, with the
// one key and a known_hosts holding every host's own key, checked strictly.
func writeSSHConfig(t testing.TB, dir, key string, hosts []*Host) string {
	t.Helper()
	var cfg, known strings.Builder
	for _, h := range hosts {
		fmt.Fprintf(&cfg, "Host %s\n  HostName %s\n  Port %d\n", h.Name, h.Addr, h.Port)
		fmt.Fprintf(&known, "[%s]:%d %s\n", h.Addr, h.Port, h.hostKey)
	}
	fmt.Fprintf(&cfg, "Host down\n  HostName 127.0.0.1\n  Port %d\n", closedPort(t))
	fmt.Fprintf(&cfg, "Host *\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n", key)
	fmt.Fprintf(&cfg, "  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n", filepath.Join(dir, "known_hosts"))
	fmt.Fprintf(&cfg, "  LogLevel ERROR\n  ConnectTimeout 10\n")
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ssh_config")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
