package maillog

import (
	"context"
	"fmt"

	"github.com/mqsql/mqsql"
)

// pendingMessage is what a batch's lines said about one message, merged as mergeMessage
// merges them into its row: a later line's known field wins, the first time and the first
// removal are kept.
type pendingMessage struct {
	first   float64
	removed float64 // 0: not removed
	m       mqsql.LogMessage
}

// mergeMessage adds r to its message's pending row. A line after that message's removal
// starts a new message under the same ID (mergeMessage's rule): the old one is written first.
func (b *batch) mergeMessage(ctx context.Context, r *mqsql.LogRecord) error {
	if b.messages == nil {
		b.messages = map[string]*pendingMessage{}
	}
	p := b.messages[r.QueueID]
	if p != nil && p.removed != 0 && r.Time > p.removed {
		if err := b.writeMessage(ctx, r.QueueID, p); err != nil {
			return err
		}
		p = nil
	}
	if p == nil {
		p = &pendingMessage{first: r.Time, m: mqsql.LogMessage{Size: -1, Nrcpt: -1}}
		b.messages[r.QueueID] = p
	}
	p.merge(r)
	return nil
}

// merge adds what r says.
func (p *pendingMessage) merge(r *mqsql.LogRecord) {
	m := &r.Message
	p.first = min(p.first, r.Time)
	if m.HasSender {
		p.m.Sender, p.m.HasSender = m.Sender, true
	}
	if m.Size >= 0 {
		p.m.Size = m.Size
	}
	if m.Nrcpt >= 0 {
		p.m.Nrcpt = m.Nrcpt
	}
	for _, f := range [...]struct {
		dst *string
		v   string
	}{
		{&p.m.ClientAddress, m.ClientAddress}, {&p.m.SASLUsername, m.SASLUsername}, {&p.m.MessageID, m.MessageID},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if m.Removed && p.removed == 0 {
		p.removed = r.Time
	}
}

// writeMessages writes every pending message.
func (b *batch) writeMessages(ctx context.Context) error {
	for id, p := range b.messages {
		if err := b.writeMessage(ctx, id, p); err != nil {
			return err
		}
	}
	b.messages = nil
	return nil
}

// writeMessage merges one pending message into its log_messages row.
func (b *batch) writeMessage(ctx context.Context, id string, p *pendingMessage) error {
	m := &p.m
	var sender, size, nrcpt, removed any
	if m.HasSender {
		sender = m.Sender
	}
	if m.Size >= 0 {
		size = m.Size
	}
	if m.Nrcpt >= 0 {
		nrcpt = m.Nrcpt
	}
	if p.removed != 0 {
		removed = p.removed
	}
	_, err := b.message.ExecContext(ctx, id, p.first, sender, size, nrcpt, null(m.ClientAddress),
		null(m.SASLUsername), null(m.MessageID), removed)
	if err != nil {
		return fmt.Errorf("history: write %s: %w", id, err)
	}
	return nil
}
