package sendmailtest

import (
	"reflect"
	"testing"
)

// TestParseMailq reads mailq's layouts: the plain and the -v listing, the status character
// after an ID (locked, lost), body type, quarantine and status lines.
func TestParseMailq(t *testing.T) {
	plain := "\t\t/q (2 requests)\n" +
		"-----Q-ID----- --Size-- -----Q-Time----- ------------Sender/Recipient-----------\n" +
		"6B1Jtw3U007621*      11 Tue Dec  1 19:55 alice@sender.example\n" +
		"\t\t\t\t\t bob@dest.example\n" +
		"6B1KaaaA999999?       5 Tue Dec  1 19:56 <>\n" +
		"     QUARANTINE: held\n" +
		"      8BITMIME\n" +
		"                 (Deferred: Connection refused by [127.0.0.1])\n" +
		"\t\t\t\t\t <dave@dest.example>\n" +
		"\t\t\t\t\t erin@other.example\n" +
		"\t\tTotal requests: 2\n"
	got, total, err := ParseMailq(plain, false)
	want := []Listed{
		{ID: "6B1Jtw3U007621", Status: '*', Size: 11, Time: "Dec  1 19:55", Sender: "alice@sender.example",
			Recipients: []ListedRecipient{{Address: "bob@dest.example"}}},
		{ID: "6B1KaaaA999999", Status: '?', Size: 5, Time: "Dec  1 19:56", Sender: "<>", Quarantine: "held", BodyType: "8BITMIME",
			Message: "Deferred: Connection refused by [127.0.0.1]", Recipients: []ListedRecipient{{Address: "<dave@dest.example>"}, {Address: "erin@other.example"}}},
	}
	if err != nil || total != 2 || !reflect.DeepEqual(got, want) {
		t.Errorf("plain: %+v, %d, %v", got, total, err)
	}
	verbose := "\t\t/q (2 requests)\n" +
		"-----Q-ID----- --Size-- -Priority- ---Q-Time--- --------Sender/Recipient--------\n" +
		"6B1Ju6in008058       15     180171 Dec  1 19:56 alice@sender.example\n" +
		"                 (User unknown)\n" +
		"\t\t\t\t\t\ttemp@dest.example\n" +
		"\t\t (Deferred: 452 4.2.2 <temp@dest.example>: mailbox full, try later)\n" +
		"     AAA06703        5      30029 Dec  7 23:18 s1@x.example\n" +
		"                 (Deferred: 452 4.2.2 full)\n" +
		"\t\t\t\t\t\tr@remote.example\n" +
		"\t\tTotal requests: 2\n"
	got, total, err = ParseMailq(verbose, true)
	want = []Listed{{ID: "6B1Ju6in008058", Status: ' ', Size: 15, Priority: 180171, Time: "Dec  1 19:56", Sender: "alice@sender.example",
		Message: "User unknown", Recipients: []ListedRecipient{{Address: "temp@dest.example", Message: "Deferred: 452 4.2.2 <temp@dest.example>: mailbox full, try later"}}},
		// A pre-8.12 ID, right-aligned in its column.
		{ID: "AAA06703", Status: ' ', Size: 5, Priority: 30029, Time: "Dec  7 23:18", Sender: "s1@x.example",
			Message: "Deferred: 452 4.2.2 full", Recipients: []ListedRecipient{{Address: "r@remote.example"}}}}
	if err != nil || total != 2 || !reflect.DeepEqual(got, want) {
		t.Errorf("verbose: %+v, %d, %v", got, total, err)
	}
	if got, total, err := ParseMailq("/var/spool/mqueue is empty\n\t\tTotal requests: 0\n", false); err != nil || len(got) != 0 || total != 0 {
		t.Errorf("empty: %v %d %v", got, total, err)
	}
}
