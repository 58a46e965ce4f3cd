package postfixtest

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSMTP is a scripted SMTP server that records what the client sent, so the client's
// wire format can be checked without Postfix.
type fakeSMTP struct {
	ln       net.Listener
	mu       sync.Mutex
	commands []string
	data     []string // one entry per DATA, exactly as received up to the final dot
	refuse   string   // RCPT address to answer with 550
	pipeline bool
	done     chan struct{}
}

func startFake(t *testing.T, pipeline bool, refuse string) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln, refuse: refuse, pipeline: pipeline, done: make(chan struct{})}
	go f.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		<-f.done
	})
	return f
}

func (f *fakeSMTP) serve() {
	defer close(f.done)
	conn, err := f.ln.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	reply := func(s string) {
		_, _ = w.WriteString(s + "\r\n")
		_ = w.Flush()
	}
	reply("220 fake.test ESMTP")
	n := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		f.commands = append(f.commands, line)
		f.mu.Unlock()
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch {
		case verb == "EHLO":
			ext := "250-fake.test\r\n250-SMTPUTF8\r\n"
			if f.pipeline {
				ext += "250-PIPELINING\r\n"
			}
			reply(ext + "250 AUTH PLAIN LOGIN")
		case verb == "AUTH":
			reply("235 2.7.0 Authentication successful")
		case verb == "RCPT" && f.refuse != "" && strings.Contains(line, "<"+f.refuse+">"):
			reply("550 5.1.1 refused")
		case verb == "DATA":
			reply("354 go ahead")
			var sb strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				sb.WriteString(l)
			}
			f.mu.Lock()
			f.data = append(f.data, sb.String())
			f.mu.Unlock()
			n++
			reply(fmt.Sprintf("250 2.0.0 Ok: queued as 4jcFAKE%dz1", n))
		case verb == "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 ok")
		}
	}
}

func (f *fakeSMTP) snapshot() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.commands...), append([]string(nil), f.data...)
}

func TestClientWireFormat(t *testing.T) {
	for _, pipeline := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipelining=%v", pipeline), func(t *testing.T) {
			f := startFake(t, pipeline, "bad@remote.test")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := DialAddr(ctx, f.ln.Addr().String(), "helo.test")
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Extensions()["SMTPUTF8"]; !ok {
				t.Errorf("extensions %v lack SMTPUTF8", c.Extensions())
			}
			if err := c.Auth(ctx, "u@mqsql.test", "pw"); err != nil {
				t.Fatal(err)
			}
			id, err := c.Send(ctx, &Message{
				From:       "",
				To:         []string{"a@remote.test", `"b c"@example.net`},
				SMTPUTF8:   true,
				MailParams: []string{"BODY=8BITMIME"},
				RcptParams: []string{"NOTIFY=NEVER"},
				Header:     []HeaderField{{"Subject", "s"}, {"X-Folded", "one\n\ttwo"}},
				Body:       []byte(".starts with a dot\nend"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if id != "4jcFAKE1z1" {
				t.Errorf("queue ID = %q", id)
			}
			_, err = c.Send(ctx, &Message{From: "x@y.test", To: []string{"ok@remote.test", "bad@remote.test"}, Body: []byte("b\n")})
			var se *SMTPError
			if !errors.As(err, &se) || se.Code != 550 || !strings.Contains(se.Command, "bad@remote.test") {
				t.Fatalf("refused recipient: got %v, want *SMTPError 550", err)
			}
			id, err = c.Send(ctx, &Message{From: "x@y.test", To: []string{"ok@remote.test"}, BodySize: 1000})
			if err != nil || id != "4jcFAKE2z1" {
				t.Fatalf("message after refusal: id %q err %v", id, err)
			}
			if err := c.Quit(ctx); err != nil {
				t.Fatal(err)
			}
			cmds, data := f.snapshot()
			wantAuth := "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00u@mqsql.test\x00pw"))
			want := []string{
				"EHLO helo.test", wantAuth,
				"MAIL FROM:<> SMTPUTF8 BODY=8BITMIME",
				"RCPT TO:<a@remote.test> NOTIFY=NEVER", `RCPT TO:<"b c"@example.net> NOTIFY=NEVER`, "DATA",
				"MAIL FROM:<x@y.test>", "RCPT TO:<ok@remote.test>", "RCPT TO:<bad@remote.test>", "RSET",
				"MAIL FROM:<x@y.test>", "RCPT TO:<ok@remote.test>", "DATA", "QUIT",
			}
			if strings.Join(cmds, "|") != strings.Join(want, "|") {
				t.Errorf("commands:\n got %q\nwant %q", cmds, want)
			}
			if len(data) != 2 {
				t.Fatalf("got %d DATA transfers, want 2", len(data))
			}
			if want := "Subject: s\r\nX-Folded: one\r\n\ttwo\r\n\r\n..starts with a dot\r\nend\r\n"; data[0] != want {
				t.Errorf("DATA:\n got %q\nwant %q", data[0], want)
			}
			body := data[1][strings.Index(data[1], "\r\n\r\n")+4:]
			if len(body) < 950 || len(body) > 1050 {
				t.Errorf("generated body is %d bytes, want about 1000", len(body))
			}
			for _, l := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
				if len(l) > 76 {
					t.Errorf("generated body line of %d bytes", len(l))
				}
			}
		})
	}
}

func TestClientContextCancel(t *testing.T) {
	// A server that accepts but never greets: Dial must give up when ctx ends.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			time.Sleep(2 * time.Second)
			conn.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := DialAddr(ctx, ln.Addr().String(), "h"); err == nil {
		t.Fatal("Dial succeeded against a silent server")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Dial took %v after its context expired", d)
	}
}

func TestParsePostqueueJSON(t *testing.T) {
	// Two lines as Postfix 3.7 prints them, plus 3.11+ keys that must be ignored.
	in := `{"queue_name": "deferred", "queue_id": "4jc7PP1W6fzdXSJ", "arrival_time": 1795865417, "message_size": 350, "forced_expire": false, "sender": "brief3r@x.test", "recipients": [{"address": "r2@remote.test", "delay_reason": "connect to 127.0.0.1[127.0.0.1]:2526: Connection refused"}, {"address": "r3@remote.test"}]}
{"queue_name": "hold", "queue_id": "4jc7Pl6TNDzdZKr", "arrival_time": 1795865435, "message_size": 604, "forced_expire": true, "sender": "MAILER-DAEMON", "recipients": [{"orig_address": "x@remote.test", "address": "x@remote.test", "bounce_reason": "gone"}]}
`
	got, err := ParsePostqueueJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d entries, want 2", len(got))
	}
	e := got[0]
	if e.QueueName != "deferred" || e.QueueID != "4jc7PP1W6fzdXSJ" || e.ArrivalTime != 1795865417 ||
		e.MessageSize != 350 || e.ForcedExpire || e.Sender != "brief3r@x.test" || len(e.Recipients) != 2 ||
		e.Recipients[0].DelayReason == "" || e.Recipients[1].DelayReason != "" {
		t.Errorf("entry 0 = %+v", e)
	}
	if !got[1].ForcedExpire || got[1].Recipients[0].Address != "x@remote.test" {
		t.Errorf("entry 1 = %+v", got[1])
	}
	if _, err := ParsePostqueueJSON([]byte(`{"queue_id": 5}`)); err == nil {
		t.Error("wrong type accepted")
	}
	if got, err := ParsePostqueueJSON(nil); err != nil || len(got) != 0 {
		t.Errorf("empty input: %v, %v", got, err)
	}
}

func TestAllocate(t *testing.T) {
	for _, total := range []int{0, 1, 7, 100, 551} {
		a := allocate(total, zipf(8))
		sum := 0
		for i, x := range a {
			sum += x
			if i > 0 && x > a[0] {
				t.Errorf("allocate(%d) = %v: not skewed to the first sender", total, a)
			}
		}
		if sum != total {
			t.Errorf("allocate(%d) = %v sums to %d", total, a, sum)
		}
	}
}
