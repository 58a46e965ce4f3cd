package sendmail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"unicode/utf8"

	"github.com/mqsql/mqsql"
	"golang.org/x/sys/unix"
)

// found is a message's control file as content readers find it.
type found struct {
	rel  string
	data []byte
	qf   qfile
}

// findControl reads id's control file from the first of qf, hf and Qf that exists, as
// mailq's -qQ and -qL find held and lost mail too.
func (s *Spool) findControl(id string) (*found, error) {
	if !ValidQueueID(id) {
		return nil, fmt.Errorf("bad Sendmail queue ID %q", id)
	}
	for _, p := range s.Locations(id) {
		data, _, err := s.readControl(mqsql.Entry{Queue: p.Queue, QueueID: id, File: mqsql.FileInfo{Path: p.Path}})
		if errors.Is(err, mqsql.ErrGone) {
			continue
		}
		if err != nil {
			return nil, err
		}
		f := &found{rel: p.Path, data: data}
		var scratch mqsql.Message
		if _, err := parseQF(data, &f.qf, &scratch, nil); err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("%s: %w", id, mqsql.ErrNoMessage)
}

// Header returns the values of id's header fields called name (in any case), in order and
// joined by newlines, cut to at most limit bytes at a UTF-8 boundary; found is false when the
// message has no such field.
func (s *Spool) Header(id, name string, limit int) (value string, found bool, err error) {
	f, err := s.findControl(id)
	if err != nil {
		return "", false, err
	}
	var b []byte
	for _, h := range f.qf.headers {
		if !strings.EqualFold(h.name, name) {
			continue
		}
		if found {
			b = append(b, '\n')
		}
		found = true
		b = append(b, headerValue(h.value)...)
		if len(b) > limit {
			break
		}
	}
	return string(mqsql.CutUTF8(b, limit)), found, nil
}

// Body returns the start of id's body, the df file, at most limit bytes (cut at a UTF-8
// boundary); more reports that it goes on. A message whose df is missing is damaged.
func (s *Spool) Body(id string, limit int) (text []byte, more bool, err error) {
	f, err := s.findControl(id)
	if err != nil {
		return nil, false, err
	}
	rel := s.partRel(f.rel, &f.qf, letterData, id)
	fd, err := s.root.OpenFD(rel, unix.O_RDONLY)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("%s: no body file %s: %w", id, rel, mqsql.ErrDamaged)
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", rel, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, limit+1)
	n, err := readFull(fd, buf)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", rel, err)
	}
	if n > limit {
		return mqsql.CutUTF8(buf[:n], limit), true, nil
	}
	return buf[:n], false, nil
}

// Postcat writes a simple rendering of message id, in the spirit of postcat: the control
// file's envelope lines as stored, the header lines, and the body (the df file), each part
// under a banner. Control bytes (Sendmail's macro bytes, the binary deliver-by mode) are
// shown as \xNN.
func (s *Spool) Postcat(w io.Writer, id string, show mqsql.ContentParts) error {
	if show == (mqsql.ContentParts{}) {
		show = mqsql.ContentParts{Envelope: true, Header: true, Body: true}
	}
	f, err := s.findControl(id)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if show.Envelope {
		fmt.Fprintf(&out, "*** ENVELOPE RECORDS %s ***\n", f.rel)
		writeEnvelope(&out, f.data)
	}
	if show.Header || show.Body {
		fmt.Fprintf(&out, "*** MESSAGE CONTENTS %s ***\n", f.rel)
	}
	if show.Header {
		for _, h := range f.qf.headers {
			out.WriteString(escapeControl(dropMacros(h.name + ":" + string(h.value))))
			out.WriteByte('\n')
		}
	}
	if show.Header && show.Body {
		out.WriteByte('\n')
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return err
	}
	if show.Body {
		if err := s.copyBody(w, f, id); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(w, "*** MESSAGE FILE END %s ***\n", f.rel)
	return err
}

// writeEnvelope writes every line of a control file but its headers and end marker.
func writeEnvelope(out *bytes.Buffer, data []byte) {
	for len(data) > 0 {
		line, n := nextFolded(data)
		data = data[n:]
		if len(line) == 0 || line[0] == 'H' || line[0] == '.' {
			continue
		}
		out.WriteString(escapeControl(string(line)))
		out.WriteByte('\n')
	}
}

// copyBody copies the df file of id, whose control file is c, to w.
func (s *Spool) copyBody(w io.Writer, c *found, id string) error {
	rel := s.partRel(c.rel, &c.qf, letterData, id)
	f, err := s.root.Open(rel, false)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no body file %s: %w", id, rel, mqsql.ErrDamaged)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", rel, err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("read %s: %w", rel, err)
	}
	return nil
}

// escapeControl shows bytes below space (but tab and newline), DEL and invalid UTF-8 as \xNN.
func escapeControl(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		c := s[i]
		if (r == utf8.RuneError && size == 1) || (c < ' ' && c != '\t' && c != '\n') || c == 0x7f {
			fmt.Fprintf(&b, `\x%02x`, c)
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}
