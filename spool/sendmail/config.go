package sendmail

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultConfig is where Debian (and upstream) keep the MTA's configuration.
const DefaultConfig = "/etc/mail/sendmail.cf"

// DefaultQueueDirectory is Sendmail's queue when its configuration names none.
const DefaultQueueDirectory = "/var/spool/mqueue"

// QueueDirectories returns the queue directories a sendmail.cf declares, as Sendmail finds
// them (queue.c, multiqueue_cache): the QueueDirectory option and the path (P=) of each queue
// group (Q line), each ending in "*" standing for every directory that matches it
// (/var/spool/mqueue/q*). Sorted, without duplicates; DefaultQueueDirectory when the file
// names none. A pattern that matches nothing is left out.
func QueueDirectories(cfPath string) ([]string, error) {
	data, err := os.ReadFile(cfPath)
	if err != nil {
		return nil, fmt.Errorf("read Sendmail's configuration: %w", err)
	}
	var declared []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if p := queuePath(sc.Text()); p != "" {
			declared = append(declared, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", cfPath, err)
	}
	if len(declared) == 0 {
		declared = []string{DefaultQueueDirectory}
	}
	return expand(declared), nil
}

// queuePath returns the queue path a configuration line declares, "" for other lines:
// "O QueueDirectory=/var/spool/mqueue", or a queue group "Qname, P=/path, F=f, ...".
func queuePath(line string) string {
	if v, ok := strings.CutPrefix(line, "O QueueDirectory="); ok {
		return strings.TrimSpace(v)
	}
	if !strings.HasPrefix(line, "Q") {
		return ""
	}
	for _, field := range strings.Split(line, ",")[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if ok && (k == "P" || k == "Path") {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// expand replaces each path ending in "*" by the directories it matches.
func expand(paths []string) []string {
	seen := map[string]bool{}
	for _, p := range paths {
		if !strings.HasSuffix(p, "*") {
			seen[filepath.Clean(p)] = true
			continue
		}
		matches, _ := filepath.Glob(p)
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil && st.IsDir() {
				seen[filepath.Clean(m)] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
