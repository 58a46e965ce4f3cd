package hosttest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Host is one running host: a namespace holding its Postfix and its sshd.
type Host struct {
	Name    string
	Addr    string // its loopback address, 127.0.0.x
	Port    int    // its sshd's port
	dir     string // its private copies and sshd's files
	hostKey string // its sshd's public key, as known_hosts holds it
	cmd     *exec.Cmd
}

// setup is the script that runs in the new namespace: private copies over the machine's
// Postfix folders and the cache of mqsql (else every host would share one cache index), a
// PATH folder with or without mqsql, the hostname, Postfix, then sshd in the foreground
// (exec, so the test's process is sshd and the namespace lives as long as it does).
const setup = `set -e
D=$1
mkdir -p /var/cache/mqsql /run/sshd
mount --bind "$D/etc" /etc/postfix
mount --bind "$D/spool" /var/spool/postfix
mount --bind "$D/lib" /var/lib/postfix
mount --bind "$D/cache" /var/cache/mqsql
mount --bind "$D/bin" /usr/local/bin
hostname "$2"
postfix start >"$D/postfix-start.log" 2>&1
exec /usr/sbin/sshd -D -e -f "$D/sshd_config" 2>>"$D/sshd.log"
`

// newHost lays out host i's private folders.
func newHost(t testing.TB, dir string, s Spec, i int) *Host {
	t.Helper()
	h := &Host{Name: s.Name, Addr: fmt.Sprintf("127.0.0.%d", 10+i), dir: filepath.Join(dir, s.Name)}
	h.Port = freePort(t, h.Addr)
	for _, sub := range []string{"etc", "spool", "lib", "cache", "bin"} {
		if err := os.MkdirAll(filepath.Join(h.dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, "cp", "-a", "/etc/postfix/.", filepath.Join(h.dir, "etc"))
	mustRun(t, "chown", "postfix:postfix", filepath.Join(h.dir, "lib"))
	mustRun(t, "postconf", "-c", filepath.Join(h.dir, "etc"), "-e",
		"myhostname = "+s.Name+".fleet.test", "multi_instance_enable = no", "multi_instance_directories =",
		"maillog_file =")
	noInet(t, filepath.Join(h.dir, "etc", "master.cf"))
	return h
}

// noInet turns off every inet service of a host's master.cf: the hosts share the machine's
// network, and port 25 belongs to the machine's own Postfix.
func noInet(t testing.TB, masterCF string) {
	t.Helper()
	b, err := os.ReadFile(masterCF)
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.Split(string(b), "\n")
	for i, l := range ls {
		if f := strings.Fields(l); len(f) > 1 && !strings.HasPrefix(l, "#") && f[1] == "inet" {
			ls[i] = "#" + l
		}
	}
	if err := os.WriteFile(masterCF, []byte(strings.Join(ls, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// start writes the host's sshd set-up and starts its namespace; t.Cleanup stops Postfix
// and sshd again.
func (h *Host) start(t testing.TB, mqsqlBin, authorizedKey string, s Spec) {
	t.Helper()
	if !s.NoMqsql {
		mustRun(t, "cp", mqsqlBin, filepath.Join(h.dir, "bin", "mqsql"))
	}
	key := filepath.Join(h.dir, "ssh_host_ed25519_key")
	mustRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	h.hostKey = strings.Join(strings.Fields(string(pub))[:2], " ")
	h.writeAuthorizedKeys(t, authorizedKey, s.ReadOnly)
	h.writeSSHDConfig(t, key)
	h.cmd = exec.Command("unshare", "--mount", "--uts", "--propagation", "private", "sh", "-c", setup, "setup", h.dir, h.Name)
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("hosttest: start %s: %v", h.Name, err)
	}
	t.Cleanup(func() { h.stop(t) })
}

// writeAuthorizedKeys lets the test's key in, restricted to mqsql ssh-reader if readOnly.
func (h *Host) writeAuthorizedKeys(t testing.TB, pubKey string, readOnly bool) {
	t.Helper()
	b, err := os.ReadFile(pubKey)
	if err != nil {
		t.Fatal(err)
	}
	if readOnly {
		b = append([]byte(`command="mqsql ssh-reader",restrict `), b...)
	}
	if err := os.WriteFile(filepath.Join(h.dir, "authorized_keys"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeSSHDConfig writes a minimal sshd_config: key login as root only, on the host's own
// address and port, nothing that reads the machine's sshd set-up.
func (h *Host) writeSSHDConfig(t testing.TB, hostKey string) {
	t.Helper()
	cfg := fmt.Sprintf(`ListenAddress %s:%d
HostKey %s
AuthorizedKeysFile %s
PidFile none
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel ERROR
MaxStartups 100
MaxSessions 100
`, h.Addr, h.Port, hostKey, filepath.Join(h.dir, "authorized_keys"))
	if err := os.WriteFile(filepath.Join(h.dir, "sshd_config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitReady waits until the host's sshd accepts connections: the set-up script starts it
// only after its Postfix started, so then the whole host is up. (The namespace itself is no
// sign: until unshare has run, nsenter would enter the machine's own.)
func (h *Host) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", h.Addr, h.Port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(h.dir, "sshd.log"))
			plog, _ := os.ReadFile(filepath.Join(h.dir, "postfix-start.log"))
			t.Fatalf("hosttest: %s not ready: %v\nsshd: %s\npostfix start: %s", h.Name, err, log, plog)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Exec runs a command inside the host's namespace (nsenter), as a session of its sshd would.
func (h *Host) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	argv := append([]string{"--target", fmt.Sprint(h.cmd.Process.Pid), "--mount", "--uts", "--", name}, args...)
	return exec.CommandContext(ctx, "nsenter", argv...).CombinedOutput()
}

// Output runs a command inside the host's namespace and returns its standard output only.
func (h *Host) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	argv := append([]string{"--target", fmt.Sprint(h.cmd.Process.Pid), "--mount", "--uts", "--", name}, args...)
	return exec.CommandContext(ctx, "nsenter", argv...).Output()
}

// stop stops the host's Postfix (inside its namespace) and its sshd, and waits for both.
// A master that outlived its namespace's first process (a set-up that failed after
// Postfix started) is found by its pid file in the host's private spool and stopped too.
func (h *Host) stop(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := h.Exec(ctx, "postfix", "stop"); err != nil {
		t.Logf("hosttest: %s: postfix stop: %v %s", h.Name, err, out)
	}
	_ = syscall.Kill(-h.cmd.Process.Pid, syscall.SIGTERM)
	_ = h.cmd.Wait()
	b, err := os.ReadFile(filepath.Join(h.dir, "spool", "pid", "master.pid"))
	if err != nil {
		return
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil || pid <= 1 {
		return
	}
	for ctx.Err() == nil && syscall.Kill(pid, 0) == nil {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		time.Sleep(100 * time.Millisecond)
	}
}

// freePort finds a port nothing listens on at addr.
func freePort(t testing.TB, addr string) int {
	t.Helper()
	l, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatalf("hosttest: no free port on %s: %v", addr, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// closedPort is a loopback port where nothing listens: the destination that is down.
func closedPort(t testing.TB) int { return freePort(t, "127.0.0.1") }
