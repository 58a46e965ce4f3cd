package postfixtest

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"strings"
	"time"
)

// Client is a minimal SMTP client for injecting test mail into Postfix. net/smtp cannot
// send the null sender, SMTPUTF8 or DSN parameters, and hides the server's reply that
// carries the queue ID, so the harness speaks SMTP itself on net/textproto. One Client
// can send many messages over one connection, which is much faster than one connection
// per message. A Client is not safe for concurrent use.
type Client struct {
	conn net.Conn
	text *textproto.Conn
	ext  map[string]string
	helo string
}

// Message is one mail transaction. From and every To entry are written verbatim between
// angle brackets, so a quoted local part must be given quoted ("\"brief sp\"@x.test").
type Message struct {
	// From is the envelope sender; "" sends the null sender MAIL FROM:<>.
	From string
	// To are the envelope recipients, at least one.
	To []string
	// SMTPUTF8 adds the SMTPUTF8 parameter to MAIL FROM, needed for non-ASCII addresses.
	SMTPUTF8 bool
	// MailParams are further MAIL FROM parameters, e.g. "BODY=8BITMIME", "RET=HDRS", "ENVID=x".
	MailParams []string
	// RcptParams are parameters added to every RCPT TO, e.g. "NOTIFY=SUCCESS,FAILURE".
	RcptParams []string
	// Header holds the header fields in order. A Value may contain folded continuation
	// lines ("\r\n\t..." or "\n\t...") and may be longer than any SMTP line limit.
	Header []HeaderField
	// Body is the message body with "\n" or "\r\n" line ends; the client dot-stuffs it.
	Body []byte
	// BodySize, when Body is nil, makes the client send a generated body of about this
	// many bytes (76-character lines), for size and load tests.
	BodySize int
}

// HeaderField is one header line "Name: Value".
type HeaderField struct {
	Name  string
	Value string
}

// SMTPError is a negative SMTP reply, kept so tests can assert on the code.
type SMTPError struct {
	Command string // the command that was refused, e.g. "RCPT TO:<x@y>"
	Code    int
	Msg     string
}

// Error formats the refused command and the server's reply.
func (e *SMTPError) Error() string {
	return fmt.Sprintf("postfixtest: SMTP %s: %d %s", e.Command, e.Code, e.Msg)
}

// Dial connects to smtpd on 127.0.0.1:25 and greets it with EHLO helo, so that tests can
// choose the HELO name that Postfix records (helo_name attribute).
func (p *Postfix) Dial(ctx context.Context, helo string) (*Client, error) {
	return DialAddr(ctx, SMTPAddr, helo)
}

// DialAddr is Dial against another address; it exists so the client can be tested
// against a fake server without Postfix.
func DialAddr(ctx context.Context, addr, helo string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("postfixtest: dial SMTP %s: %w", addr, err)
	}
	c := &Client{conn: conn, text: textproto.NewConn(conn), helo: helo}
	err = c.guard(ctx, func() error {
		if _, _, err := c.text.ReadResponse(220); err != nil {
			return c.wrap("greeting", err)
		}
		return c.ehlo()
	})
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return c, nil
}

// guard runs fn with the connection's deadline taken from ctx and aborts blocked I/O when
// ctx is cancelled.
func (c *Client) guard(ctx context.Context, fn func() error) error {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.conn.SetDeadline(dl)
	} else {
		_ = c.conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	err := fn()
	if !stop() && err != nil && ctx.Err() != nil {
		// The deadline trick fired; report the cancellation rather than an I/O timeout.
		return fmt.Errorf("postfixtest: SMTP: %w (%v)", ctx.Err(), err)
	}
	return err
}

// wrap turns a textproto error into an *SMTPError and adds context to others.
func (c *Client) wrap(cmd string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &SMTPError{Command: cmd, Code: te.Code, Msg: te.Msg}
	}
	return fmt.Errorf("postfixtest: SMTP %s: %w", cmd, err)
}

// cmd sends one command line and reads its reply, expecting expect (a full code such as
// 250, or a class such as 2).
func (c *Client) cmd(expect int, line string) (int, string, error) {
	if err := c.text.PrintfLine("%s", line); err != nil {
		return 0, "", c.wrap(line, err)
	}
	code, msg, err := c.text.ReadResponse(expect)
	if err != nil {
		return code, msg, c.wrap(line, err)
	}
	return code, msg, nil
}

func (c *Client) ehlo() error {
	_, msg, err := c.cmd(250, "EHLO "+c.helo)
	if err != nil {
		return err
	}
	c.ext = map[string]string{}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(l), " ")
		c.ext[strings.ToUpper(k)] = v
	}
	return nil
}

// Extensions returns the EHLO keywords the server announced (upper case) with their
// parameters, e.g. "AUTH" → "PLAIN LOGIN".
func (c *Client) Extensions() map[string]string {
	m := make(map[string]string, len(c.ext))
	for k, v := range c.ext {
		m[k] = v
	}
	return m
}

// Auth authenticates with AUTH PLAIN, so that following messages are queued with the
// SASL attributes (sasl_method, sasl_username) that mqsql reports.
func (c *Client) Auth(ctx context.Context, user, password string) error {
	resp := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	return c.guard(ctx, func() error {
		if err := c.text.PrintfLine("AUTH PLAIN %s", resp); err != nil {
			return c.wrap("AUTH PLAIN", err)
		}
		if _, _, err := c.text.ReadResponse(235); err != nil {
			return c.wrap("AUTH PLAIN "+user, err)
		}
		return nil
	})
}

// AuthLogin authenticates with the AUTH LOGIN exchange, the other mechanism the test
// Postfix offers (sasl_method=LOGIN in the queue file).
func (c *Client) AuthLogin(ctx context.Context, user, password string) error {
	enc := base64.StdEncoding.EncodeToString
	return c.guard(ctx, func() error {
		if _, _, err := c.cmd(334, "AUTH LOGIN"); err != nil {
			return err
		}
		if _, _, err := c.cmd(334, enc([]byte(user))); err != nil {
			return err
		}
		if err := c.text.PrintfLine("%s", enc([]byte(password))); err != nil {
			return c.wrap("AUTH LOGIN", err)
		}
		if _, _, err := c.text.ReadResponse(235); err != nil {
			return c.wrap("AUTH LOGIN "+user, err)
		}
		return nil
	})
}

// Reset sends RSET, abandoning any transaction in progress.
func (c *Client) Reset(ctx context.Context) error {
	return c.guard(ctx, func() error {
		_, _, err := c.cmd(250, "RSET")
		return err
	})
}

// Quit ends the session politely and closes the connection.
func (c *Client) Quit(ctx context.Context) error {
	err := c.guard(ctx, func() error {
		_, _, err := c.cmd(221, "QUIT")
		return err
	})
	if cerr := c.conn.Close(); err == nil && cerr != nil && !errors.Is(cerr, net.ErrClosed) {
		err = fmt.Errorf("postfixtest: close SMTP connection: %w", cerr)
	}
	return err
}

// Close drops the connection without QUIT.
func (c *Client) Close() error {
	if err := c.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("postfixtest: close SMTP connection: %w", err)
	}
	return nil
}

var queuedAs = regexp.MustCompile(`queued as ([0-9A-Za-z]+)`)

// Send performs one mail transaction and returns the queue ID from Postfix's final
// "250 ... queued as ID" reply. If the server refuses the sender or any recipient the
// transaction is abandoned with RSET (nothing is queued) and the refusal is returned as
// *SMTPError; the connection stays usable for the next message.
func (c *Client) Send(ctx context.Context, m *Message) (string, error) {
	if len(m.To) == 0 {
		return "", errors.New("postfixtest: Send: message has no recipients")
	}
	var id string
	err := c.guard(ctx, func() error {
		var err error
		id, err = c.send(m)
		return err
	})
	return id, err
}

func (c *Client) send(m *Message) (string, error) {
	mail := "MAIL FROM:<" + m.From + ">"
	if m.SMTPUTF8 {
		mail += " SMTPUTF8"
	}
	for _, p := range m.MailParams {
		mail += " " + p
	}
	cmds := []string{mail}
	for _, r := range m.To {
		rcpt := "RCPT TO:<" + r + ">"
		for _, p := range m.RcptParams {
			rcpt += " " + p
		}
		cmds = append(cmds, rcpt)
	}

	// With PIPELINING, send MAIL and all RCPTs in one write and then read the replies;
	// DATA only follows once every reply was positive.
	_, pipelining := c.ext["PIPELINING"]
	var firstErr error
	if pipelining {
		for _, l := range cmds {
			if _, err := io.WriteString(c.text.W, l+"\r\n"); err != nil {
				return "", c.wrap(l, err)
			}
		}
		if err := c.text.W.Flush(); err != nil {
			return "", c.wrap(cmds[0], err)
		}
		for _, l := range cmds {
			if _, _, err := c.text.ReadResponse(2); err != nil {
				var te *textproto.Error
				if !errors.As(err, &te) {
					return "", c.wrap(l, err)
				}
				if firstErr == nil {
					firstErr = c.wrap(l, err)
				}
			}
		}
	} else {
		for _, l := range cmds {
			if _, _, err := c.cmd(2, l); err != nil {
				firstErr = err
				break
			}
		}
	}
	if firstErr != nil {
		var se *SMTPError
		if !errors.As(firstErr, &se) {
			return "", firstErr
		}
		if _, _, err := c.cmd(250, "RSET"); err != nil {
			return "", fmt.Errorf("%w (and RSET failed: %v)", firstErr, err)
		}
		return "", firstErr
	}

	if _, _, err := c.cmd(354, "DATA"); err != nil {
		return "", err
	}
	w := c.text.DotWriter()
	bw := bufio.NewWriterSize(w, 64*1024)
	if err := writeContent(bw, m); err != nil {
		_ = w.Close()
		return "", fmt.Errorf("postfixtest: SMTP DATA: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("postfixtest: SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("postfixtest: SMTP end of DATA: %w", err)
	}
	_, msg, err := c.text.ReadResponse(250)
	if err != nil {
		return "", c.wrap("end of DATA", err)
	}
	sm := queuedAs.FindStringSubmatch(msg)
	if sm == nil {
		return "", fmt.Errorf("postfixtest: SMTP end of DATA: no queue ID in reply %q", msg)
	}
	return sm[1], nil
}

// writeContent writes header and body with "\n" line ends (the dot writer turns them into
// CRLF and stuffs dots).
func writeContent(w *bufio.Writer, m *Message) error {
	for _, h := range m.Header {
		v := strings.ReplaceAll(h.Value, "\r\n", "\n")
		if _, err := fmt.Fprintf(w, "%s: %s\n", h.Name, v); err != nil {
			return err
		}
	}
	if _, err := w.WriteString("\n"); err != nil {
		return err
	}
	if m.Body != nil {
		body := m.Body
		if _, err := w.Write(body); err != nil {
			return err
		}
		if len(body) > 0 && body[len(body)-1] != '\n' {
			_, err := w.WriteString("\n")
			return err
		}
		return nil
	}
	return writeFiller(w, m.BodySize)
}

// writeFiller writes about size bytes (counting CRLF line ends) of printable filler in
// 76-character lines.
func writeFiller(w *bufio.Writer, size int) error {
	const lineLen = 76
	pattern := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	n := 0
	for i := 0; size-n > 0; i++ {
		l := lineLen
		if rest := size - n - 2; rest < l {
			l = max(rest, 1)
		}
		prefix := fmt.Sprintf("filler %07d ", i)
		line := make([]byte, 0, l)
		line = append(line, prefix...)
		for len(line) < l {
			line = append(line, pattern[(i+len(line))%len(pattern)])
		}
		line = line[:l]
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
		n += l + 2
	}
	return nil
}

// SendMessage is the one-shot form of Dial + Send + Quit with HELO name "client.test",
// for tests that need a single message.
func (p *Postfix) SendMessage(ctx context.Context, m *Message) (string, error) {
	c, err := p.Dial(ctx, "client.test")
	if err != nil {
		return "", err
	}
	id, err := c.Send(ctx, m)
	if err != nil {
		_ = c.Close()
		return "", err
	}
	if err := c.Quit(ctx); err != nil {
		return id, err
	}
	return id, nil
}
