package postfix

import (
	"bytes"
	"context"
	"fmt"
	"github.com/mqsql/mqsql/internal/syscmd"
	"os/exec"
	"strconv"
	"strings"
)

// DefaultQueueDirectory is Postfix's default queue_directory, used when postconf is absent.
const DefaultQueueDirectory = "/var/spool/postfix"

// Config holds the Postfix settings that decide where a queue file lives. They come from
// postconf when Postfix is installed, because a reader that guesses the hashing wrong would
// call good mail misplaced.
type Config struct {
	QueueDirectory string
	// HashQueueNames lists the queues (lower case) whose files sit in hashed subdirectories.
	HashQueueNames []string
	HashQueueDepth int
}

// DefaultConfig is Postfix's built-in configuration (global/mail_params.h).
func DefaultConfig() Config {
	return Config{
		QueueDirectory: DefaultQueueDirectory,
		HashQueueNames: []string{"deferred", "defer"},
		HashQueueDepth: 1,
	}
}

// LoadConfig asks postconf (syscmd.Find: /usr/sbin first, PATH only as a fallback) for the
// queue settings. Without postconf it returns DefaultConfig and no error: a copied spool on a
// machine without Postfix is a normal use.
func LoadConfig(ctx context.Context) (Config, error) {
	path, err := syscmd.Find("postconf")
	if err != nil {
		return DefaultConfig(), nil
	}
	out, err := exec.CommandContext(ctx, path, "-h", "queue_directory", "hash_queue_names", "hash_queue_depth").Output()
	if err != nil {
		return DefaultConfig(), fmt.Errorf("run postconf: %w", err)
	}
	return parsePostconf(out)
}

func parsePostconf(out []byte) (Config, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) != 3 {
		return DefaultConfig(), fmt.Errorf("postconf printed %d lines, want 3", len(lines))
	}
	depth, err := strconv.Atoi(strings.TrimSpace(lines[2]))
	if err != nil || depth < 0 || depth > 16 {
		return DefaultConfig(), fmt.Errorf("postconf: bad hash_queue_depth %q", lines[2])
	}
	return Config{
		QueueDirectory: strings.TrimSpace(lines[0]),
		HashQueueNames: splitList(lines[1]),
		HashQueueDepth: depth,
	}, nil
}

// splitList splits a Postfix list parameter on commas and white space, lower-casing each name
// because Postfix compares queue names case-insensitively.
func splitList(s string) []string {
	f := bytes.FieldsFunc([]byte(s), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	names := make([]string, len(f))
	for i, b := range f {
		names[i] = strings.ToLower(string(b))
	}
	return names
}

// hashed reports whether files of the named queue (or log directory) are hashed.
func (c Config) hashed(queue string) bool {
	for _, n := range c.HashQueueNames {
		if n == queue {
			return true
		}
	}
	return false
}

// RelPath returns where Postfix keeps queue ID id in the named directory, relative to the
// queue directory. id must have passed ValidQueueID.
func (c Config) RelPath(queue, id string) string {
	if !c.hashed(queue) || c.HashQueueDepth == 0 {
		return queue + "/" + id
	}
	return queue + "/" + strings.Join(hashDirs(id, c.HashQueueDepth), "/") + "/" + id
}
