package spool

import (
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
