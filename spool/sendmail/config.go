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

// DefaultGroup is the name of Sendmail's default queue group, whose directory QueueDirectory
// names.
const DefaultGroup = "mqueue"

// QueueGroup is one queue group of a sendmail.cf: its name and the directories it uses.
type QueueGroup struct {
	Name string
	Dirs []string
}

// Queues is what a sendmail.cf says of its queue: the base directory (QueueDirectory, or its
// parent when it ends in a q* wildcard), below which Sendmail requires every queue path, and
// its queue groups, the default group (mqueue) first.
type Queues struct {
	Base   string
	Groups []QueueGroup
}

// ReadQueues reads the queue directories a sendmail.cf declares, as Sendmail finds them
// (queue.c, multiqueue_cache): the QueueDirectory option and the path (P=) of each queue group
// (Q line), each ending in "*" standing for every directory that matches it
// (/var/spool/mqueue/q*). A pattern that matches nothing adds no directory. A file that names
// no QueueDirectory gets DefaultQueueDirectory.
func ReadQueues(cfPath string) (Queues, error) {
	data, err := os.ReadFile(cfPath)
	if err != nil {
		return Queues{}, fmt.Errorf("read Sendmail's configuration: %w", err)
	}
	option := ""
	var groups []QueueGroup
	paths := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "O QueueDirectory="); ok {
			option = strings.TrimSpace(v)
		} else if name, p := queueGroupLine(line); name != "" {
			if _, seen := paths[name]; !seen && name != DefaultGroup {
				groups = append(groups, QueueGroup{Name: name})
			}
			paths[name] = p
		}
	}
	if err := sc.Err(); err != nil {
		return Queues{}, fmt.Errorf("read %s: %w", cfPath, err)
	}
	if option == "" {
		option = DefaultQueueDirectory
	}
	q := Queues{Base: filepath.Clean(option)}
	if strings.HasSuffix(option, "*") {
		q.Base = filepath.Dir(option)
	}
	def := option
	if p := paths[DefaultGroup]; p != "" {
		def = p
	}
	q.Groups = append([]QueueGroup{{Name: DefaultGroup, Dirs: expand([]string{def})}}, groups...)
	for i := 1; i < len(q.Groups); i++ {
		if p := paths[q.Groups[i].Name]; p != "" {
			q.Groups[i].Dirs = expand([]string{p})
		}
	}
	return q, nil
}

// QueueDirectories returns every queue directory of ReadQueues, sorted, without duplicates.
func QueueDirectories(cfPath string) ([]string, error) {
	q, err := ReadQueues(cfPath)
	if err != nil {
		return nil, err
	}
	var all []string
	for _, g := range q.Groups {
		all = append(all, g.Dirs...)
	}
	return expand(all), nil
}

// queueGroupLine returns the name and path (P=, "" when none) of a queue group line
// "Qname, P=/path, F=f, ..."; name is "" for other lines.
func queueGroupLine(line string) (name, p string) {
	if !strings.HasPrefix(line, "Q") {
		return "", ""
	}
	fields := strings.Split(line[1:], ",")
	name = strings.TrimSpace(fields[0])
	if name == "" || strings.ContainsAny(name, " \t=") {
		return "", ""
	}
	for _, field := range fields[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if ok && (k == "P" || k == "Path") {
			p = strings.TrimSpace(v)
		}
	}
	return name, p
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
