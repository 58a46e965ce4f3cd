package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mqsql/mqsql/internal/postfixtest"
)

// lockQueue takes the lock the Postfix tests take, so the benchmark and the tests never share
// the queue.
func lockQueue(ctx context.Context) (func(), error) {
	f, err := os.OpenFile(postfixtest.LockFile, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open queue lock: %w", err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", postfixtest.LockFile, err)
		}
		if !told {
			fmt.Println("waiting for", postfixtest.LockFile, "(a Postfix test is running)")
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// checkTestPostfix refuses any Postfix that .ci/postfix-setup did not configure: the
// benchmark deletes the whole queue.
func checkTestPostfix() error {
	out, err := exec.Command(tool("postconf"), "-h", "config_directory").Output()
	if err != nil {
		return fmt.Errorf("postconf: %w", err)
	}
	main := filepath.Join(strings.TrimSpace(string(out)), "main.cf")
	f, err := os.Open(main)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == postfixtest.Marker {
			return nil
		}
	}
	return fmt.Errorf("%s lacks %q: not the test Postfix, refusing to delete its queue", main, postfixtest.Marker)
}

// tool finds a Postfix program in the sbin directories, which go run's PATH may lack.
func tool(name string) string {
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	return name
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func queueDir() (string, error) {
	out, err := exec.Command(tool("postconf"), "-h", "queue_directory").Output()
	if err != nil {
		return "", fmt.Errorf("postconf: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// resetQueue empties the queue and waits until it stays empty.
func resetQueue(ctx context.Context) error {
	dir, err := queueDir()
	if err != nil {
		return err
	}
	for {
		if out, err := exec.CommandContext(ctx, tool("postsuper"), "-d", "ALL").CombinedOutput(); err != nil {
			return fmt.Errorf("postsuper -d ALL: %v: %s", err, out)
		}
		for _, d := range []string{"corrupt", "trace"} {
			removeFiles(filepath.Join(dir, d))
		}
		time.Sleep(300 * time.Millisecond)
		if countFiles(dir, "maildrop", "incoming", "active", "deferred", "hold", "defer", "bounce") == 0 {
			return nil
		}
	}
}

func removeFiles(dir string) {
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Remove(path)
		}
		return nil
	})
}

func countFiles(root string, dirs ...string) int {
	n := 0
	for _, d := range dirs {
		filepath.WalkDir(filepath.Join(root, d), func(path string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				n++
			}
			return nil
		})
	}
	return n
}

// settle waits until Postfix has placed everything: incoming and active empty and the number
// of deferred files unchanged for a second.
func settle(ctx context.Context) error {
	dir, err := queueDir()
	if err != nil {
		return err
	}
	last, stable := -1, time.Now()
	for {
		busy := countFiles(dir, "maildrop", "incoming", "active")
		n := countFiles(dir, "deferred", "hold", "defer")
		if busy > 0 || n != last {
			last, stable = n, time.Now()
		} else if time.Since(stable) > time.Second {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// postqueue returns postqueue -j's listing.
func postqueue(ctx context.Context) ([]postfixtest.Entry, error) {
	out, err := exec.CommandContext(ctx, tool("postqueue"), "-j").Output()
	if err != nil {
		return nil, fmt.Errorf("postqueue -j: %w", err)
	}
	return postfixtest.ParsePostqueueJSON(out)
}
