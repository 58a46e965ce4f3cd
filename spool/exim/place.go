package exim

import (
	"path"
	"strings"
)

// A message's files sit together: ID-H, ID-D and ID-J in one input directory (input/,
// input/X/ with split_spool_directory, NAME/input/[X/] for named queue NAME, Finput/[X/] for
// frozen mail moved aside), and its msglog in the matching msglog directory. hpath names a
// message by the path of its -H; the other paths derive from it.

// hpath is the spool-relative path of a -H file.
type hpath string

// dir is the input directory of the message's files.
func (h hpath) dir() string { return path.Dir(string(h)) }

// id is the message ID the -H is named for.
func (h hpath) id() string { return strings.TrimSuffix(path.Base(string(h)), "-H") }

// sibling is the message's file with the given suffix (D or J) next to its -H.
func (h hpath) sibling(suffix string) string { return h.dir() + "/" + h.id() + "-" + suffix }

// msglog is the path of the message's msglog: the input component of its directory becomes
// msglog (Finput becomes Fmsglog).
func (h hpath) msglog() string {
	parts := strings.Split(h.dir(), "/")
	for i, p := range parts {
		if p == "input" {
			parts[i] = "msglog"
			break
		}
		if p == "Finput" {
			parts[i] = "Fmsglog"
			break
		}
	}
	return strings.Join(parts, "/") + "/" + h.id()
}

// frozenAside reports whether the message is in Finput/ (move_frozen_messages).
func (h hpath) frozenAside() bool { return strings.HasPrefix(string(h), "Finput/") }

// namedQueue is the named queue the message is in, "" for the default queue and Finput.
func (h hpath) namedQueue() string {
	first, rest, _ := strings.Cut(string(h), "/")
	if first == "input" || first == "Finput" || !strings.HasPrefix(rest, "input/") {
		return ""
	}
	return first
}
