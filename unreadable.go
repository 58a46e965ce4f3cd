package mqsql

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"syscall"
)

// UnreadableError reports a place of the spool (a directory or a file, relative to the spool)
// that a walk or a look could not open, list or stat for a reason other than its absence:
// too many open files (EMFILE, ENFILE), an I/O error, a permission denied. What it held is not
// known, so it is not "empty" and not "gone": the index keeps every row at or below Path and
// tries again later. A walk that meets one goes on with the rest of the spool and returns
// every such error at its end (errors.Join); UnreadablePlaces lists them.
type UnreadableError struct {
	Path string
	Err  error
}

func (e *UnreadableError) Error() string {
	return fmt.Sprintf("cannot read %s: %v (its rows are kept until it can be read)", e.Path, e.Err)
}

func (e *UnreadableError) Unwrap() error { return e.Err }

// ErrNotSpool is what a driver's look at a path matches (errors.Is) when a symbolic link stands
// where the MTA keeps a directory or a file: a link is not the spool, so what is behind it is
// not queued mail, exactly as a fresh start that never follows it finds nothing there.
var ErrNotSpool = errors.New("a symbolic link stands where the spool has a directory or file")

// Absent reports whether err, from opening, listing or stat-ing a place of the spool, proves
// that nothing the MTA queued is there: it does not exist (ENOENT), a component is no
// directory (ENOTDIR), or it is a link that is no part of the spool (ErrNotSpool, or the
// ELOOP and EXDEV of a link refused by a link-safe open).
func Absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, ErrNotSpool) || errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EXDEV)
}

// Unreadable turns err, from opening, listing or stat-ing rel, into what a walk reports: nil
// when err is nil or Absent, else an *UnreadableError for rel (err itself when it already is
// one).
func Unreadable(rel string, err error) error {
	if err == nil || Absent(err) {
		return nil
	}
	var ue *UnreadableError
	if errors.As(err, &ue) {
		return err
	}
	return &UnreadableError{Path: rel, Err: err}
}

// UnreadablePlaces returns the paths of every *UnreadableError in err, whose tree errors.Join
// and %w build; nil when it holds none.
func UnreadablePlaces(err error) []string {
	var out []string
	eachLeaf(err, func(leaf error) {
		if ue, ok := leaf.(*UnreadableError); ok {
			out = append(out, ue.Path)
		}
	})
	return out
}

// OnlyUnreadable reports whether err is not nil and every error in its tree is an
// *UnreadableError: a walk or a look that finished, with places it could not see.
func OnlyUnreadable(err error) bool {
	only := err != nil
	eachLeaf(err, func(leaf error) {
		if _, ok := leaf.(*UnreadableError); !ok {
			only = false
		}
	})
	return only
}

// eachLeaf calls fn with each error of err's tree that is an *UnreadableError or wraps
// nothing, looking through %w and errors.Join.
func eachLeaf(err error, fn func(error)) {
	switch x := err.(type) {
	case nil:
	case *UnreadableError:
		fn(x)
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			eachLeaf(e, fn)
		}
	case interface{ Unwrap() error }:
		if inner := x.Unwrap(); inner != nil {
			eachLeaf(inner, fn)
		} else {
			fn(err)
		}
	default:
		fn(err)
	}
}

// Covers reports whether the spool-relative path is one of places or below one of them.
func Covers(places []string, path string) bool {
	for _, p := range places {
		if path == p || p == "." || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// Unreadables collects the places one walk could not see, from any number of goroutines: the
// walk goes on past each and returns Err at its end. The zero value is ready to use.
type Unreadables struct {
	mu   sync.Mutex
	errs []error
}

// Add records err from opening, listing or stat-ing rel, unless it is nil or Absent, and
// reports whether it did: the caller then skips rel, which the index keeps as it was.
func (u *Unreadables) Add(rel string, err error) bool {
	err = Unreadable(rel, err)
	if err == nil {
		return false
	}
	u.mu.Lock()
	u.errs = append(u.errs, err)
	u.mu.Unlock()
	return true
}

// Err joins what Add recorded; nil when the walk saw everything.
func (u *Unreadables) Err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return errors.Join(u.errs...)
}
