package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/mqsql/mqsql/internal/backupfolder"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/spool/postfix"
)

// hostileSubject is a Subject a spammer wrote: an OSC 52 write to the clipboard, a window
// title ended by BEL, a C1 CSI that clears the screen, a bidi override. It holds no '[' so
// that a regexp made of it fails on its unclosed '(' and quotes all of it.
const (
	hostileSubject = "(\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;pwned\x07\u009b2J\u202egnp.exe 件名"
	hostileQueueID = "4jcHOST1LEz5xx1"
	// hostileName is a file in hold/ named to attack whoever reads the walker's warning.
	hostileName = "\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J\u202egnp.exe"
)

// rawControls are byte sequences that must never reach the terminal from mail: ESC, BEL, a C1
// control as UTF-8 and as a lone byte, and the bidi override.
var rawControls = []string{"\x1b", "\x07", "\u009b", "\x9b", "\u202e"}

// hostileQueueFile is a complete queue file in hold whose Subject is hostileSubject.
func hostileQueueFile() []byte {
	envelope := bytes.Join([][]byte{
		rec('T', "1795865417 207798"), rec('A', "create_time=1795865417"), rec('S', "spam@evil.test"),
		rec('O', "victim@remote.test"), rec('R', "victim@remote.test"), rec('M', "")}, nil)
	content := bytes.Join([][]byte{rec('N', "Subject: "+hostileSubject), rec('N', ""), rec('N', "body")}, nil)
	dataOffset := 97 + len(envelope)
	size := rec('C', fmt.Sprintf("%15d %15d %15d %15d %15d %15d", len(content), dataOffset, 1, 0, len(content), 0))
	return bytes.Join([][]byte{size, envelope, content, rec('X', ""), rec('E', "")}, nil)
}

// hostileSpool is a copy of the sample spool with the hostile message in hold and, when
// named is set, a file in hold/ called hostileName.
func hostileSpool(t *testing.T, named bool) string {
	t.Helper()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	must(t, os.WriteFile(filepath.Join(dir, "hold", hostileQueueID), hostileQueueFile(), 0o700))
	if named {
		must(t, os.WriteFile(filepath.Join(dir, "hold", hostileName), []byte("x"), 0o700))
	}
	return dir
}

// forgedBackup is a backup folder whose manifest names a message by a hostile queue ID.
func forgedBackup(t *testing.T, spoolDir string) string {
	t.Helper()
	dir := t.TempDir()
	m := postfix.Manifest{Time: time.Unix(1795865417, 0).UTC(), User: "root", Spool: spoolDir,
		Archive: postfix.ArchiveName, Messages: []postfix.BackedUpMessage{{Message: backupfolder.Message{QueueID: hostileSubject,
			Queue: "hold", Sender: "spam@evil.test"}, QueueFile: "x", SHA256: strings.Repeat("0", 64)}}}
	b, err := json.Marshal(m)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, postfix.ManifestName), b, 0o600))
	return dir
}

// onTerminal runs mqsql with stdin, stdout and stderr on a pseudo-terminal, stops it with
// SIGTERM once the terminal shows until (when set), and returns all the terminal got.
func onTerminal(t *testing.T, bin, until string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TERM=xterm", "MQSQL_HISTORY="+filepath.Join(t.TempDir(), "history"))
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	must(t, err)
	defer tty.Close()
	got := make(chan []byte, 64)
	go func() {
		defer close(got)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			got <- append([]byte(nil), buf[:n]...)
			if err != nil { // EIO once the process has gone: the terminal is closed
				return
			}
		}
	}()
	var shown bytes.Buffer
	deadline := time.After(30 * time.Second)
	for stopped := until == ""; ; {
		select {
		case b, ok := <-got:
			if !ok {
				cmd.Wait()
				return shown.String()
			}
			shown.Write(b)
			if !stopped && strings.Contains(shown.String(), until) {
				stopped = true
				must(t, cmd.Process.Signal(syscall.SIGTERM))
			}
		case <-deadline:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("mqsql %q did not end; the terminal shows:\n%q", args, shown.String())
		}
	}
}

// checkEscaped fails unless the terminal shows want and none of rawControls.
func checkEscaped(t *testing.T, shown, want string) {
	t.Helper()
	if !strings.Contains(shown, want) {
		t.Errorf("the terminal does not show %q; it shows:\n%q", want, shown)
	}
	for _, raw := range rawControls {
		if strings.Contains(shown, raw) {
			t.Errorf("the terminal got %q raw:\n%q", raw, shown)
		}
	}
}

// TestStderrEscapedOnTerminal runs mqsql on a terminal where each of its stderr paths quotes
// mail: an SQL error quoting a Subject, a regexp built from a Subject, a warning of the
// walker about a hostile file name, and restore refusing a forged manifest's queue ID. The
// terminal shows the escapes, never the controls.
func TestStderrEscapedOnTerminal(t *testing.T) {
	bin := buildMQSQL(t)
	where := " FROM messages WHERE queue_id = '" + hostileQueueID + "'"
	escSubject := `(\x1b]52;c;cm0gLXJmIH4=\x07\x1b]0;pwned\x07\u009b2J\u202egnp.exe 件名`
	escName := `hold/\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J\u202egnp.exe`
	tests := []struct {
		name  string
		named bool
		args  func(dir string) []string
		want  string
	}{
		{"SQL error quoting data", false, func(dir string) []string {
			return []string{"--spool", dir, "SELECT json_extract('{}', subject)" + where}
		}, escSubject},
		{"regexp built from a Subject", false, func(dir string) []string {
			return []string{"--spool", dir, "SELECT subject REGEXP subject" + where}
		}, escSubject},
		{"walker warning", true, func(dir string) []string {
			return []string{"--spool", dir, "SELECT count(*) FROM messages"}
		}, "warning: skip " + escName},
		{"restore of a forged manifest", false, func(dir string) []string {
			return []string{"restore", "--spool", dir, "--backup", t.TempDir(), forgedBackup(t, dir)}
		}, `\x1b]52;c;cm0gLXJmIH4=\x07`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shown := onTerminal(t, bin, "", tt.args(hostileSpool(t, tt.named))...)
			checkEscaped(t, shown, tt.want)
		})
	}
}

// TestWatchLogEscaped runs the watch daemon on a terminal over a spool with a hostile file
// name in hold/: its log shows the name escaped.
func TestWatchLogEscaped(t *testing.T) {
	bin := buildMQSQL(t)
	dir := hostileSpool(t, true)
	db := filepath.Join(t.TempDir(), "idx.db")
	shown := onTerminal(t, bin, "ready:", "watch", "--spool", dir, "--db", db)
	checkEscaped(t, shown, `warning: skip hold/\x1b]52;c;cm0gLXJmIH4=\x07\u009b2J\u202egnp.exe`)
	if !strings.Contains(shown, "stopping") {
		t.Errorf("the log does not say it stopped:\n%q", shown)
	}
}
