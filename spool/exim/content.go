package exim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mqsql/mqsql"
)

// locate finds message id's -H in every place Exim may keep it, and reads it. When the -H
// does not parse, it returns its path with the error matching mqsql.ErrDamaged, and the hfile
// too when only the header section is damaged.
func (s *Spool) locate(id string) (hpath, *hfile, error) {
	if !ValidQueueID(id) {
		return "", nil, mqsql.ErrNoMessage
	}
	for _, p := range s.Locations(id) {
		data, _, err := readFile(s.root, p.Path)
		if err != nil {
			continue
		}
		h, err := parseH(data, id)
		if err != nil {
			return hpath(p.Path), h, fmt.Errorf("%s: %w: %w", p.Path, mqsql.ErrDamaged, err)
		}
		return hpath(p.Path), h, nil
	}
	return "", nil, mqsql.ErrNoMessage
}

// Header returns the values of message id's sent header fields called name (in any case), in
// order and joined by newlines, cut to at most limit bytes at a UTF-8 boundary.
func (s *Spool) Header(id, name string, limit int) (string, bool, error) {
	_, h, err := s.locate(id)
	if err != nil {
		return "", false, err
	}
	var b strings.Builder
	found := false
	for _, f := range h.fields() {
		if !strings.EqualFold(f.name, name) {
			continue
		}
		if found {
			b.WriteByte('\n')
		}
		found = true
		b.WriteString(f.value)
		if b.Len() > limit {
			break
		}
	}
	return string(mqsql.CutUTF8([]byte(b.String()), limit)), found, nil
}

// Body returns the start of message id's body (the -D after its ID line), at most limit
// bytes; more reports that it goes on. Encodings are left as they are. The body is the -D's
// alone: a -H that does not parse does not hide an intact body (Exim keeps the two apart).
func (s *Spool) Body(id string, limit int) ([]byte, bool, error) {
	hp, _, err := s.locate(id)
	if hp == "" {
		return nil, false, err
	}
	f, err := s.root.Open(hp.sibling("D"), false)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w: %w", hp.sibling("D"), mqsql.ErrDamaged, err)
	}
	defer f.Close()
	buf := make([]byte, int(dataStart(id))+limit+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("read %s: %w", hp.sibling("D"), err)
	}
	if int64(n) < dataStart(id) {
		return nil, false, fmt.Errorf("%s: %w: shorter than its ID line", hp.sibling("D"), mqsql.ErrDamaged)
	}
	body := buf[dataStart(id):n]
	if len(body) > limit {
		return mqsql.CutUTF8(body, limit), true, nil
	}
	return body, false, nil
}

// Postcat writes message id in a simple rendering of what postcat shows for Postfix: the
// envelope (sender, arrival, recipients with their state), the headers Exim would send, and
// the body. Bytes from the message are written as they are.
func (s *Spool) Postcat(w io.Writer, id string, show mqsql.ContentParts) error {
	if show == (mqsql.ContentParts{}) {
		show = mqsql.ContentParts{Envelope: true, Header: true, Body: true}
	}
	hp, h, err := s.locate(id)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if show.Envelope {
		writeEnvelope(bw, hp, h)
		fmt.Fprintf(bw, "*** MESSAGE CONTENTS %s ***\n", hp)
	}
	if show.Header {
		for _, hd := range h.headers {
			if hd.flag != '*' {
				bw.Write(hd.text)
			}
		}
	}
	if show.Body {
		if show.Header {
			bw.WriteByte('\n')
		}
		if err := s.copyBody(bw, hp); err != nil {
			bw.Flush()
			return err
		}
	}
	if show.Envelope {
		fmt.Fprintf(bw, "*** END OF MESSAGE ***\n")
	}
	return bw.Flush()
}

// writeEnvelope writes the envelope part of Postcat.
func writeEnvelope(w *bufio.Writer, hp hpath, h *hfile) {
	fmt.Fprintf(w, "*** ENVELOPE RECORDS %s ***\n", hp)
	fmt.Fprintf(w, "message_arrival_time: %s\n", time.Unix(h.received, 0).Format(time.ANSIC))
	fmt.Fprintf(w, "sender: %s\n", h.sender)
	done := map[string]bool{}
	for _, a := range h.nonrcpt {
		done[a] = true
	}
	for _, r := range h.recipients {
		state := "recipient"
		if done[r.address] {
			state = "done_recipient"
		}
		fmt.Fprintf(w, "%s: %s\n", state, r.address)
	}
}

// copyBody copies the -D after its ID line.
func (s *Spool) copyBody(w io.Writer, hp hpath) error {
	f, err := s.root.Open(hp.sibling("D"), false)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", hp.sibling("D"), mqsql.ErrDamaged, err)
	}
	defer f.Close()
	if _, err := f.Seek(dataStart(hp.id()), io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", hp.sibling("D"), err)
	}
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("read %s: %w", hp.sibling("D"), err)
	}
	return nil
}
