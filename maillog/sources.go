package maillog

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mqsql/mqsql"
)

// DefaultLog is where a syslog daemon keeps mail logs on Debian when the MTA's configuration
// names no file of its own.
const DefaultLog = "/var/log/mail.log"

// Sources is which logs to read.
type Sources struct {
	// Files are the files, oldest first.
	Files []string
	// Journal is set when there is no file and the journal is read instead.
	Journal bool
}

// Resolve decides which logs to read. logs are --log values: a file (with its history
// rotated files before it, FILE.N or FILE.N.gz, oldest first) or a glob (its matches, oldest
// first by mtime). Without any, for the MTA running here (live), the files its configuration
// names, else DefaultLog, else the journal; for a queue that is not the live one, nothing
// (that log is not about it).
func Resolve(ctx context.Context, logs []string, history int, lr mqsql.LogReader, live bool) (Sources, error) {
	var s Sources
	for _, l := range logs {
		files, err := expand(l, history)
		if err != nil {
			return s, err
		}
		s.Files = append(s.Files, files...)
	}
	if len(logs) > 0 || !live || lr == nil {
		return s, nil
	}
	for _, f := range lr.LogFiles(ctx) {
		if isFile(f) {
			files, _ := expand(f, history)
			s.Files = append(s.Files, files...)
		}
	}
	if len(s.Files) == 0 && isFile(DefaultLog) {
		s.Files, _ = expand(DefaultLog, history)
	}
	if len(s.Files) == 0 {
		_, err := exec.LookPath("journalctl")
		s.Journal = err == nil
	}
	return s, nil
}

// expand turns one --log value into files, oldest first.
func expand(l string, history int) ([]string, error) {
	if strings.ContainsAny(l, "*?[") {
		m, err := filepath.Glob(l)
		if err != nil {
			return nil, fmt.Errorf("--log %s: %w", l, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("--log %s: no file matches", l)
		}
		return byAge(m), nil
	}
	var files []string
	for i := history; i >= 1; i-- {
		for _, suffix := range []string{"", ".gz"} {
			if p := l + "." + strconv.Itoa(i) + suffix; isFile(p) {
				files = append(files, p)
				break
			}
		}
	}
	return append(files, l), nil
}

// byAge sorts files oldest first: by mtime, a rotated file's number breaking ties (.2 is
// older than .1).
func byAge(files []string) []string {
	type aged struct {
		path string
		mt   int64
	}
	as := make([]aged, len(files))
	for i, f := range files {
		as[i].path = f
		if st, err := os.Stat(f); err == nil {
			as[i].mt = st.ModTime().UnixNano()
		}
	}
	sort.SliceStable(as, func(i, j int) bool {
		if as[i].mt != as[j].mt {
			return as[i].mt < as[j].mt
		}
		return rotation(as[i].path) > rotation(as[j].path)
	})
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.path
	}
	return out
}

// rotation is the N of FILE.N or FILE.N.gz, 0 for the current file.
func rotation(p string) int {
	p = strings.TrimSuffix(p, ".gz")
	n, err := strconv.Atoi(p[strings.LastIndexByte(p, '.')+1:])
	if err != nil {
		return 0
	}
	return n
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Current are the files of files that are no rotated copy (FILE.N, FILE.N.gz): the ones a
// follower follows.
func Current(files []string) []string {
	var out []string
	for _, f := range files {
		if rotation(f) == 0 && !strings.HasSuffix(f, ".gz") {
			out = append(out, f)
		}
	}
	return out
}

// Rotated are the other files of files.
func Rotated(files []string) []string {
	var out []string
	for _, f := range files {
		if rotation(f) != 0 || strings.HasSuffix(f, ".gz") {
			out = append(out, f)
		}
	}
	return out
}
