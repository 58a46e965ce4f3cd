package sendmailtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RsyslogEnv names the environment variable that makes Syslog fail instead of skip when
// rsyslogd is missing (CI sets it, and installs Debian's rsyslog).
const RsyslogEnv = "MQSQL_REQUIRE_RSYSLOG"

// syslogLock serializes the tests that start a syslog daemon on /dev/log, which there is one
// of per machine.
const syslogLock = "/run/mqsql-rsyslogtest.lock"

// Syslog starts Debian's rsyslogd on /dev/log, writing facility mail to a file of the test's
// own, and returns that file: Sendmail logs only through syslog, and without a daemon its
// lines go nowhere. It stops the daemon when the test ends. It fails the test when /dev/log
// is another daemon's (that syslog's file is not the test's to read).
func Syslog(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		if os.Getenv(RsyslogEnv) == "1" {
			t.Fatalf("sendmailtest: rsyslogd not found (apt-get install rsyslog)")
		}
		t.Skipf("sendmailtest: rsyslogd not found; set %s=1 to fail instead", RsyslogEnv)
	}
	lockSyslog(t)
	if _, err := os.Lstat("/dev/log"); err == nil {
		t.Fatalf("sendmailtest: /dev/log exists: another syslog daemon runs here")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	conf := filepath.Join(dir, "rsyslog.conf")
	text := "global(workDirectory=\"" + dir + "\")\nmodule(load=\"imuxsock\" SysSock.Name=\"/dev/log\")\nmail.* " + log + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		os.Remove("/dev/log")
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Lstat("/dev/log"); err == nil {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatal("sendmailtest: rsyslogd did not create /dev/log")
		}
	}
}

// lockSyslog holds syslogLock until the test ends.
func lockSyslog(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(syslogLock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}

// WaitForLog waits until file holds each of texts (the daemon writes a little after).
func WaitForLog(t testing.TB, file string, texts ...string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		data, _ := os.ReadFile(file)
		missing := ""
		for _, s := range texts {
			if !strings.Contains(string(data), s) {
				missing = s
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sendmailtest: the log has no %q:\n%s", missing, data)
		}
	}
}
