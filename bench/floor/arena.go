package main

import (
	"encoding/binary"
	"fmt"
	"syscall"

	"github.com/mqsql/mqsql"
)

// arena keeps messages encoded outside the Go heap (an anonymous mapping), so that a million
// of them held for the SQLite phase neither count against the load's memory limit nor cost
// the garbage collector anything; each read decodes a fresh Message, as a real read makes one.
type arena struct {
	mem  []byte
	offs []int // start of each message
	end  int
}

func newArena(size int) (*arena, error) {
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE|syscall.MAP_NORESERVE)
	if err != nil {
		return nil, fmt.Errorf("map the arena: %w", err)
	}
	return &arena{mem: mem}, nil
}

func (a *arena) free() { _ = syscall.Munmap(a.mem) }

func (a *arena) len() int { return len(a.offs) }

// add encodes m at the end of the arena.
func (a *arena) add(m *mqsql.Message) error {
	b := a.mem[a.end:a.end]
	str := func(s string) { b = binary.AppendUvarint(b, uint64(len(s))); b = append(b, s...) }
	num := func(v int64) { b = binary.AppendVarint(b, v) }
	for _, s := range []string{m.QueueID, string(m.Queue), m.Sender, m.Subject, m.FromHeader, m.MessageID,
		m.ClientAddress, m.HeloName, m.SASLUsername, m.LogIdent, m.HoldReason, m.QueueName, m.Error, m.File.Path} {
		str(s)
	}
	expire := int64(0)
	if m.ForcedExpire {
		expire = 1
	}
	for _, v := range []int64{m.ArrivalTime, m.Size, expire, m.NextAttempt, m.File.Size, int64(m.File.Inode),
		int64(m.File.Mode), m.File.ModTimeNanos, m.File.Log.Size, m.File.Log.ModTimeNanos, int64(len(m.Recipients))} {
		num(v)
	}
	for _, r := range m.Recipients {
		for _, s := range []string{r.Address, r.OrigAddress, string(r.Status), r.DelayReason, r.DSNStatus, r.DiagText} {
			str(s)
		}
		deferred := int64(0)
		if r.Deferred {
			deferred = 1
		}
		num(r.Offset)
		num(deferred)
	}
	if a.end+len(b) > len(a.mem) || &b[0] != &a.mem[a.end] {
		return fmt.Errorf("the arena of %d bytes is full", len(a.mem))
	}
	a.offs = append(a.offs, a.end)
	a.end += len(b)
	return nil
}

// message decodes the i-th message.
func (a *arena) message(i int) *mqsql.Message {
	b := a.mem[a.offs[i]:]
	str := func() string {
		n, k := binary.Uvarint(b)
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s
	}
	num := func() int64 { v, k := binary.Varint(b); b = b[k:]; return v }
	m := &mqsql.Message{}
	for _, p := range []*string{&m.QueueID, nil, &m.Sender, &m.Subject, &m.FromHeader, &m.MessageID,
		&m.ClientAddress, &m.HeloName, &m.SASLUsername, &m.LogIdent, &m.HoldReason, &m.QueueName, &m.Error, &m.File.Path} {
		if p == nil {
			m.Queue = mqsql.Queue(str())
			continue
		}
		*p = str()
	}
	m.ArrivalTime, m.Size, m.ForcedExpire, m.NextAttempt = num(), num(), num() == 1, num()
	m.File.Size, m.File.Inode, m.File.Mode, m.File.ModTimeNanos = num(), uint64(num()), uint32(num()), num()
	m.File.Log.Size, m.File.Log.ModTimeNanos = num(), num()
	m.Recipients = make([]mqsql.Recipient, num())
	for j := range m.Recipients {
		r := &m.Recipients[j]
		r.Address, r.OrigAddress, r.Status = str(), str(), mqsql.RecipientStatus(str())
		r.DelayReason, r.DSNStatus, r.DiagText = str(), str(), str()
		r.Offset, r.Deferred = num(), num() == 1
	}
	return m
}
