package fleet

import (
	"fmt"
	"os"
	"strings"
)

// ParseHosts reads --hosts: SSH destinations separated by commas, or "@FILE" for a file
// with one per line, where "#" starts a comment. Blank entries are dropped; a list that
// names no host, or names one twice (its rows could not be told apart), is an error.
func ParseHosts(spec string) ([]string, error) {
	var raw []string
	if name, ok := strings.CutPrefix(spec, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--hosts: %w", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			l, _, _ = strings.Cut(l, "#")
			raw = append(raw, l)
		}
	} else {
		raw = strings.Split(spec, ",")
	}
	var hosts []string
	seen := map[string]bool{}
	for _, h := range raw {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if seen[h] {
			return nil, fmt.Errorf("--hosts: %s is named twice", h)
		}
		seen[h] = true
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("--hosts %q names no host", spec)
	}
	return hosts, nil
}
