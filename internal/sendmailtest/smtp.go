package sendmailtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Mail is one message for an SMTP session: envelope (with optional ESMTP parameters) and the
// message text, LF line ends.
type Mail struct {
	From       string // without <>; "" is the null sender
	FromParams string // e.g. "RET=HDRS ENVID=x"
	To         []string
	ToParams   string
	Text       string
}

// SubmitSMTP queues mails through one sendmail -bs session (SMTP on stdin and stdout, no
// socket), answering each reply before the next command as a client must, and returns the
// queue ID of each accepted mail. A whole population goes through a few sessions: a process
// per message would take minutes.
func (s *Sendmail) SubmitSMTP(ctx context.Context, helo string, mails []Mail) ([]string, error) {
	cmd := s.Command(ctx, "-bs", "-odq")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &client{r: bufio.NewReader(stdout), w: bufio.NewWriter(stdin)}
	ids, err := c.session(helo, mails)
	stdin.Close()
	io.Copy(io.Discard, stdout)
	if werr := cmd.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("sendmail -bs: %w", werr)
	}
	return ids, err
}

// client is the submitting side of an SMTP dialogue.
type client struct {
	r *bufio.Reader
	w *bufio.Writer
}

func (c *client) session(helo string, mails []Mail) ([]string, error) {
	if _, err := c.expect(220); err != nil {
		return nil, err
	}
	if _, err := c.cmd(250, "EHLO "+helo); err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range mails {
		id, err := c.mail(m)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	_, err := c.cmd(221, "QUIT")
	return ids, err
}

// mail sends one transaction and returns the queue ID from the reply to the final dot.
func (c *client) mail(m Mail) (string, error) {
	if _, err := c.cmd(250, strings.TrimSpace("MAIL FROM:<"+m.From+"> "+m.FromParams)); err != nil {
		return "", err
	}
	for _, to := range m.To {
		if _, err := c.cmd(250, strings.TrimSpace("RCPT TO:<"+to+"> "+m.ToParams)); err != nil {
			return "", err
		}
	}
	if _, err := c.cmd(354, "DATA"); err != nil {
		return "", err
	}
	for _, line := range strings.Split(strings.TrimSuffix(m.Text, "\n"), "\n") {
		if strings.HasPrefix(line, ".") {
			line = "." + line
		}
		c.w.WriteString(line + "\r\n")
	}
	reply, err := c.cmd(250, ".")
	if err != nil {
		return "", err
	}
	// "250 2.0.0 6B1JtwXL007643 Message accepted for delivery"
	f := strings.Fields(reply)
	if len(f) < 3 {
		return "", fmt.Errorf("no queue ID in %q", reply)
	}
	return f[2], nil
}

// cmd sends line and expects a reply with code want; it returns the reply's last line.
func (c *client) cmd(want int, line string) (string, error) {
	c.w.WriteString(line + "\r\n")
	if err := c.w.Flush(); err != nil {
		return "", err
	}
	reply, err := c.expect(want)
	if err != nil {
		return "", fmt.Errorf("%s: %w", line, err)
	}
	return reply, nil
}

// expect reads one (possibly multi-line) reply and checks its code.
func (c *client) expect(want int) (string, error) {
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("reading reply: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 4 {
			return "", fmt.Errorf("bad reply %q", line)
		}
		if line[3] == '-' {
			continue
		}
		code, _ := strconv.Atoi(line[:3])
		if code != want {
			return line, fmt.Errorf("reply %q, want %d", line, want)
		}
		return line, nil
	}
}

// Peer is a scripted SMTP server on 127.0.0.1:Port, the relay of the test config: RCPT
// of an address containing "temp" gets 452 4.2.2, one containing "byte" 452 4.2.2 with a
// byte 0xff in its text, one containing "perm" 550 5.1.1, others 250, and every message is
// accepted.
type Peer struct {
	ln   net.Listener
	wg   sync.WaitGroup
	once sync.Once
}

// StartPeer starts the peer; it stops when the test ends (or with Close).
func StartPeer(t testing.TB) *Peer {
	t.Helper()
	p, err := listenPeer()
	if err != nil {
		t.Fatalf("sendmailtest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func listenPeer() (*Peer, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(Port)))
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	p := &Peer{ln: ln}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Close stops the peer and waits for its connections to end.
func (p *Peer) Close() {
	p.once.Do(func() {
		p.ln.Close()
		p.wg.Wait()
	})
}

func (p *Peer) serve() {
	defer p.wg.Done()
	for {
		conn, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer conn.Close()
			converse(conn)
		}()
	}
}

// converse answers one SMTP connection.
func converse(conn net.Conn) {
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	reply := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
	reply("220 peer.example ESMTP mqsql test peer")
	inData := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		if inData {
			if line == "." {
				inData = false
				reply("250 2.0.0 accepted by test peer")
			}
			continue
		}
		u := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(u, "EHLO"):
			reply("250-peer.example\r\n250 8BITMIME")
		case strings.HasPrefix(u, "RCPT") && strings.Contains(u, "BYTE"):
			reply("452 4.2.2 <" + rcptOf(line) + ">: mailbox \xff full") // not UTF-8, stored raw
		case strings.HasPrefix(u, "RCPT") && strings.Contains(u, "TEMP"):
			reply("452 4.2.2 <" + rcptOf(line) + ">: mailbox full, try later")
		case strings.HasPrefix(u, "RCPT") && strings.Contains(u, "PERM"):
			reply("550 5.1.1 <" + rcptOf(line) + ">: user unknown")
		case strings.HasPrefix(u, "DATA"):
			inData = true
			reply("354 go ahead")
		case strings.HasPrefix(u, "QUIT"):
			reply("221 2.0.0 bye")
			return
		default:
			reply("250 2.0.0 ok")
		}
	}
}

// rcptOf is the address of a RCPT command.
func rcptOf(line string) string {
	i, j := strings.IndexByte(line, '<'), strings.IndexByte(line, '>')
	if i < 0 || j < i {
		return ""
	}
	return line[i+1 : j]
}
