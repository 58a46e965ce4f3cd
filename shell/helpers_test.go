package shell_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/index"
	"github.com/mqsql/mqsql/internal/testindex"
	"github.com/mqsql/mqsql/internal/testspool"
	"github.com/mqsql/mqsql/output"
	"github.com/mqsql/mqsql/shell"
)

// Queue IDs of the test spool.
const (
	m3ID      = "4jc7PP1W6fzdXSJ" // three recipients, one delivered
	hostileID = "4jcHOST1LEz5xx1" // a spammer's message, in hold
)

// rec encodes one queue-file record: type, base-128 length, payload.
func rec(typ byte, payload string) []byte {
	b := []byte{typ}
	for n := len(payload); ; {
		c := byte(n & 0x7f)
		if n >>= 7; n > 0 {
			b = append(b, c|0x80)
			continue
		}
		b = append(b, c)
		break
	}
	return append(b, payload...)
}

// hostileMessage is a queue file whose header a spammer wrote: terminal escapes raw and
// RFC 2047-encoded (an encoded newline too), a bidi override, wide characters, and a body that
// tries to clear the screen.
func hostileMessage() []byte {
	envelope := bytes.Join([][]byte{
		rec('T', "1795865417 207798"), rec('A', "create_time=1795865417"), rec('S', "spam@evil.test"),
		rec('O', "victim@remote.test"), rec('R', "victim@remote.test"), rec('M', "")}, nil)
	content := bytes.Join([][]byte{
		rec('N', "Subject: \x1b]0;pwned\x07\x1b[2J\u202egnp.exe 件名"),
		rec('N', "From: =?UTF-8?Q?Boss=1B[31m=0Afake_prompt$?= <boss@evil.test>"),
		rec('N', "X-Mailer: \tspam\x1b[1mcannon"),
		rec('N', ""), rec('N', "\x1b[2Jbody\ttabbed"), rec('N', "end")}, nil)
	dataOffset := 97 + len(envelope)
	size := rec('C', fmt.Sprintf("%15d %15d %15d %15d %15d %15d", len(content), dataOffset, 1, 0, len(content), 0))
	return bytes.Join([][]byte{size, envelope, content, rec('X', ""), rec('E', "")}, nil)
}

// testSpool copies testdata/spool and adds the hostile message to hold.
func testSpool(t testing.TB) string {
	t.Helper()
	dir := testspool.Copy(t, testspool.Dir(t, "spool"))
	if err := os.WriteFile(filepath.Join(dir, "hold", hostileID), hostileMessage(), 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// goldenTime is the present of the transcripts: the afternoon the sample mail was queued, so
// that ages fall in qshape's middle buckets whatever day the tests run.
var goldenTime = time.Date(2026, 11, 28, 18, 0, 0, 0, time.UTC)

// openSession indexes the spool at dir and returns a session on it that writes results and
// errors to out, as a terminal shows them interleaved. Its clock is stopped at goldenTime.
func openSession(t testing.TB, dir string, out io.Writer) *shell.Session {
	t.Helper()
	return openSessionAt(t, dir, out, goldenTime)
}

// openSessionAt is openSession with the clock stopped at now.
func openSessionAt(t testing.TB, dir string, out io.Writer, now time.Time) *shell.Session {
	t.Helper()
	ctx := context.Background()
	sp := testspool.Open(t, dir)
	ix := testindex.Memory(t, sp, index.WithClock(mqsql.FixedClock(now)))
	conn, err := ix.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	g, err := index.NewGuard(ctx, conn) // as mqsql runs every session
	if err != nil {
		t.Fatal(err)
	}
	return &shell.Session{Conn: conn, Out: out, Err: out, Guard: g, Layout: sp,
		Opt: output.Options{Format: output.Table, Headers: true, Escape: true, Width: 100}}
}

// scriptEditor is a LineEditor that types the lines of a script, echoing prompt and line to
// out as a terminal would. "^C" is Ctrl-C; the end of the script is Ctrl-D.
type scriptEditor struct {
	mu      sync.Mutex
	out     io.Writer
	lines   []string
	history []string
}

func (e *scriptEditor) Prompt(prompt string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.lines) == 0 {
		fmt.Fprintf(e.out, "%s^D\n", prompt)
		return "", io.EOF
	}
	line := e.lines[0]
	e.lines = e.lines[1:]
	fmt.Fprintf(e.out, "%s%s\n", prompt, line)
	if line == "^C" {
		return "", shell.ErrInterrupt
	}
	return line, nil
}

// AppendHistory drops an entry equal to the last one, as liner does.
func (e *scriptEditor) AppendHistory(entry string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.history) == 0 || e.history[len(e.history)-1] != entry {
		e.history = append(e.history, entry)
	}
}

// lines splits a transcript script written one line per line.
func lines(s string) []string {
	return strings.Split(strings.TrimPrefix(s, "\n"), "\n")
}
