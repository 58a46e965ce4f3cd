package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/mqsql/mqsql/internal/postfixtest"
)

// copyLiveQueue copies the real queue's message and log directories with their real modes.
func copyLiveQueue(t *testing.T, queueDir, dst string) int {
	t.Helper()
	n := 0
	for _, d := range []string{"maildrop", "incoming", "active", "deferred", "hold", "corrupt", "defer", "bounce"} {
		src := filepath.Join(queueDir, d)
		err := filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(queueDir, path)
			target := filepath.Join(dst, rel)
			info, err := e.Info()
			if err != nil {
				return err
			}
			if e.IsDir() {
				return os.MkdirAll(target, 0o700)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if d != "defer" && d != "bounce" && info.Mode()&0o700 == 0o700 {
				n++
			}
			if err := os.WriteFile(target, data, 0o600); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode().Perm())
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	return n
}

type salt struct {
	path    string // relative to the spool
	content []byte
	want    string // substring of messages.error
}

// rec encodes one queue-file record.
func rec(typ byte, payload string) []byte {
	b := []byte{typ}
	for n := len(payload); ; n >>= 7 {
		if n < 0x80 {
			b = append(b, byte(n))
			break
		}
		b = append(b, byte(n&0x7f)|0x80)
	}
	return append(b, payload...)
}

// TestSaltedSpool indexes a copy of a real Postfix queue salted with every kind of damage:
// intact messages are all there, damaged files are rows with an error, non-files are skipped
// with a warning, nothing outside the spool is read, and the exit status is 0.
func TestSaltedSpool(t *testing.T) {
	pf := postfixtest.Require(t)
	ctx := context.Background()
	if err := pf.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		_, err := pf.SendMessage(ctx, &postfixtest.Message{From: fmt.Sprintf("intact%d@ok.test", i), To: []string{"a@remote.test"},
			Header: []postfixtest.HeaderField{{Name: "Subject", Value: "intact"}}, Body: []byte("body\n")})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := pf.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	intact := copyLiveQueue(t, pf.QueueDir(), dir)
	real := realFile(t, dir)

	outside := t.TempDir()
	secret := append(rec('T', "1 1"), append(rec('S', "secret@outside.test"), append(rec('M', ""), append(rec('X', ""), rec('E', "")...)...)...)...)
	os.WriteFile(filepath.Join(outside, "4jc7PP1W6fzdXSJ"), secret, 0o700)
	os.MkdirAll(filepath.Join(outside, "sub"), 0o700)
	os.WriteFile(filepath.Join(outside, "sub", "4jc7Pl4JPWzdZKp"), secret, 0o700)

	loop := append(rec('T', "1 1"), rec('S', "a@x.test")...)
	loop = append(loop, rec('p', fmt.Sprintf("%15d", len(loop)))...)
	patched := retype(t, real, 'S', 'Q')
	salts := []salt{
		{"hold/Salt1", []byte("\x00\x13\x37 random bytes that are not a queue file \xff\xfe"), "not a queue file"},
		{"hold/Salt2", nil, "no end record"},
		{"hold/Salt3", real[:len(real)/2], "truncated"},
		{"hold/Salt4", append([]byte{'T', 0xff, 0xff, 0xff, 0x7f}, real...), "exceeds"},
		{"hold/Salt5", loop, "pointer loop"},
		{"hold/Salt6", patched, "unexpected record type"},
		{"corrupt/whatever.name", []byte("junk"), "not a queue file"},
	}
	for _, s := range salts {
		if err := os.WriteFile(filepath.Join(dir, s.path), s.content, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.Symlink(filepath.Join(outside, "4jc7PP1W6fzdXSJ"), filepath.Join(dir, "hold", "4jc7PP1W6fzdXSJ")))
	must(t, os.Symlink(filepath.Join(outside, "sub"), filepath.Join(dir, "deferred", "Z")))
	must(t, os.Mkdir(filepath.Join(dir, "hold", "Salt7"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "hold", "not a queue id"), real, 0o700))
	must(t, syscall.Mkfifo(filepath.Join(dir, "hold", "Salt8"), 0o700))

	// Files appear and vanish while mqsql reads the spool.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := filepath.Join(dir, "hold", fmt.Sprintf("Vanishing%03d", i%50))
			os.WriteFile(p, real, 0o700)
			os.Remove(p)
		}
	}()
	var r runResult
	for range 3 {
		r = runMQSQL(t, "", "--spool", dir, "--format", "csv", "--header=false",
			"SELECT queue_id, coalesce(error, 'OK'), sender FROM messages WHERE queue_id NOT GLOB 'Vanishing*' ORDER BY 1")
		if r.code != 0 {
			break
		}
	}
	close(stop)
	wg.Wait()
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		id, rest, _ := strings.Cut(line, ",")
		rows[id] = rest
	}
	ok := 0
	for _, v := range rows {
		if strings.HasPrefix(v, "OK,intact") {
			ok++
		}
	}
	if ok != intact {
		t.Errorf("%d intact messages indexed cleanly, %d in the spool\n%s", ok, intact, r.stdout)
	}
	for _, s := range salts {
		id := filepath.Base(s.path)
		if got := rows[id]; !strings.Contains(got, s.want) {
			t.Errorf("%s: row %q, want an error with %q", s.path, got, s.want)
		}
	}
	if strings.Contains(r.stdout, "secret@outside.test") {
		t.Error("a file outside the spool was read through a symbolic link")
	}
	for _, w := range []string{"hold/4jc7PP1W6fzdXSJ: not a regular file (symbolic link)", "deferred/Z: not a regular file (symbolic link)",
		"hold/Salt7: unexpected directory", "not a queue ID", "hold/Salt8: not a regular file (FIFO)"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("no warning %q in:\n%s", w, r.stderr)
		}
	}
}

// realFile returns the bytes of one real queue file under dir/deferred.
func realFile(t *testing.T, dir string) []byte {
	t.Helper()
	var data []byte
	filepath.WalkDir(filepath.Join(dir, "deferred"), func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && data == nil {
			data, _ = os.ReadFile(path)
		}
		return nil
	})
	if data == nil {
		t.Fatal("no deferred message to copy")
	}
	return data
}

// retype returns a copy of a queue file whose first record of type from has type to. It walks
// the record framing, because the byte from can also occur in a length or a payload.
func retype(t *testing.T, file []byte, from, to byte) []byte {
	t.Helper()
	out := bytes.Clone(file)
	for off := 0; off < len(out); {
		typ, n := out[off], 0
		i := off + 1
		for shift := 0; i < len(out); shift += 7 {
			b := out[i]
			i++
			n |= int(b&0x7f) << shift
			if b&0x80 == 0 {
				break
			}
		}
		if typ == from {
			out[off] = to
			return out
		}
		off = i + n
	}
	t.Fatalf("no %q record in the queue file", from)
	return nil
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
