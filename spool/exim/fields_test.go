package exim_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mqsql/mqsql"
	"github.com/mqsql/mqsql/internal/golden"
)

// TestSizesMatchIndependentParser compares each message's size, sender, arrival time and
// recipients with parsed-H.jsonl, written by a parser independent of this package.
func TestSizesMatchIndependentParser(t *testing.T) {
	byID := map[string]*mqsql.Message{}
	for _, dir := range []string{"spool", "spool-split", "spool-extras"} {
		for _, m := range readAll(t, openSpool(t, "testdata/exim/"+dir)) {
			byID[m.QueueID] = m
		}
	}
	f, err := os.Open("testdata/exim/parsed-H.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var want struct {
			ID           string `json:"id"`
			Sender       string `json:"sender"`
			ReceivedTime int64  `json:"received_time"`
			BPSize       int64  `json:"bp_size"`
			Recipients   []struct {
				Address   string `json:"address"`
				Delivered bool   `json:"delivered"`
			} `json:"recipients"`
		}
		if err := json.Unmarshal(sc.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		m := byID[want.ID]
		if m == nil {
			continue // the journal sample, which completed
		}
		n++
		if m.Size != want.BPSize || m.Sender != want.Sender || m.ArrivalTime != want.ReceivedTime {
			t.Errorf("%s: size %d sender %q time %d, want %d %q %d", want.ID, m.Size, m.Sender, m.ArrivalTime, want.BPSize, want.Sender, want.ReceivedTime)
		}
		if len(m.Recipients) != len(want.Recipients) {
			t.Errorf("%s: %d recipients, want %d", want.ID, len(m.Recipients), len(want.Recipients))
			continue
		}
		for i, r := range want.Recipients {
			if got := m.Recipients[i]; got.Address != r.Address || (got.Status == mqsql.Done) != r.Delivered {
				t.Errorf("%s recipient %d: %q %s, want %q delivered=%v", want.ID, i, got.Address, got.Status, r.Address, r.Delivered)
			}
		}
	}
	if n != 19 {
		t.Errorf("compared %d messages, want the 19 still spooled", n)
	}
}

// TestFieldsGolden records every column the driver fills for each sample message.
func TestFieldsGolden(t *testing.T) {
	var b strings.Builder
	for _, dir := range []string{"spool", "spool-split", "spool-extras"} {
		for _, m := range readAll(t, openSpool(t, filepath.Join("testdata/exim", dir))) {
			writeMessage(&b, m)
		}
	}
	golden.Check(t, "fields", []byte(b.String()))
}

func writeMessage(b *strings.Builder, m *mqsql.Message) {
	j := func(v any) string { s, _ := json.Marshal(v); return string(s) }
	b.WriteString(j(map[string]any{
		"queue_id": m.QueueID, "queue": m.Queue, "path": m.File.Path, "arrival_time": m.ArrivalTime,
		"size": m.Size, "sender": m.Sender, "subject": m.Subject, "from": m.FromHeader,
		"message_id": m.MessageID, "client_address": m.ClientAddress, "helo_name": m.HeloName,
		"sasl_username": m.SASLUsername, "error": m.Error, "file_size": m.File.Size,
		"queue_name": m.QueueName, "hold_reason": m.HoldReason,
	}) + "\n")
	for _, r := range m.Recipients {
		b.WriteString("  " + j(r) + "\n")
	}
}
