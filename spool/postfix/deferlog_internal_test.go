package postfix

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseLog(t *testing.T) {
	log := "\n<r2@remote.test>: old style line\nrecipient=r2@remote.test\noffset=307\nstatus=4.4.1\naction=delayed\n" +
		"reason=connect to x: Connection refused\n\n\nrecipient=\"q r\"@remote.test\noriginal_recipient=Q@remote.test\n" +
		"offset=663\nstatus=4.7.1\ndiag_type=smtp\ndiag_text=450 4.7.1 greylisted \x1b[31m\nreason=host said: 450\n\n" +
		"\nrecipient=partial@remote.test\noffset=900\n"
	got, err := parseLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	want := []LogEntry{
		{Recipient: "r2@remote.test", Offset: 307, Status: "4.4.1", Action: "delayed", Reason: "connect to x: Connection refused"},
		{Recipient: `"q r"@remote.test`, OriginalRecipient: "Q@remote.test", Offset: 663, Status: "4.7.1", DiagType: "smtp",
			DiagText: "450 4.7.1 greylisted ?[31m", Reason: "host said: 450"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestParseLogRepeats checks that a log appended to on every retry keeps one entry per
// recipient, the last one, where the first stood, and that past the limit of distinct
// recipients it says so and keeps the ones before.
func TestParseLogRepeats(t *testing.T) {
	entry := func(rcpt, offset, reason string) string {
		e := "\nrecipient=" + rcpt + "\n"
		if offset != "" {
			e += "offset=" + offset + "\n"
		}
		return e + "status=4.4.1\nreason=" + reason + "\n\n"
	}
	log := entry("a@x.test", "100", "first") + entry("b@x.test", "", "b first") + entry("a@x.test", "100", "second") +
		entry("c@x.test", "300", "c") + entry("b@x.test", "", "b second") + entry("a@x.test", "100", "third")
	tests := []struct {
		name    string
		limit   int
		want    []LogEntry
		wantErr bool
	}{
		{"within the limit", 3, []LogEntry{
			{Recipient: "a@x.test", Offset: 100, Status: "4.4.1", Reason: "third"},
			{Recipient: "b@x.test", Offset: -1, Status: "4.4.1", Reason: "b second"},
			{Recipient: "c@x.test", Offset: 300, Status: "4.4.1", Reason: "c"},
		}, false},
		{"past the limit", 2, []LogEntry{
			{Recipient: "a@x.test", Offset: 100, Status: "4.4.1", Reason: "third"},
			{Recipient: "b@x.test", Offset: -1, Status: "4.4.1", Reason: "b second"},
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLogBuf(strings.NewReader(log), nil, tt.limit)
			var limitErr *LogLimitError
			if errors.As(err, &limitErr) != tt.wantErr || (err != nil && !tt.wantErr) {
				t.Errorf("error %v, want a limit error: %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
