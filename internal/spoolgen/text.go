package spoolgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// The vocabulary generated mail is made of. Every domain a recipient can have ends in .test,
// so that generated mail placed in a live queue can only ever defer against the test relay.
var (
	firstNames = []string{"anna", "ben", "carla", "dmitri", "eva", "farid", "gina", "hugo", "ines", "jakob",
		"kim", "lena", "marco", "nina", "omar", "paula", "quentin", "rosa", "sven", "tara", "uwe", "vera",
		"wen", "ximena", "yusuf", "zoe"}
	lastNames = []string{"meyer", "smith", "garcia", "novak", "kowalski", "rossi", "dubois", "jensen", "silva",
		"tanaka", "okafor", "ivanova", "murphy", "schmidt", "larsen", "costa", "nguyen", "haddad"}
	bigDomains = []string{"gmail.test", "outlook.test", "yahoo.test", "gmx.test", "web.test", "icloud.test",
		"orange.test", "comcast.test", "mail-ru.test", "t-online.test", "libero.test", "qq.test"}
	domainWords = []string{"acme", "globex", "initech", "umbrella", "stark", "wayne", "tyrell", "cyberdyne",
		"hooli", "vandelay", "wonka", "soylent", "oscorp", "duff", "monarch", "gringotts", "aperture", "massive",
		"nakatomi", "prestige", "sirius", "virtucon", "zorg", "blue-sun"}
	domainKinds   = []string{"", "mail.", "shop.", "news.", "mx.", "corp."}
	normalSubject = []string{"Invoice %d for your order", "Re: meeting on Thursday", "Your account statement",
		"Weekly report week %d", "Fwd: contract draft v%d", "Delivery notification %d", "Password reset request",
		"Team lunch", "Re: Re: quote #%d", "Newsletter %d: what's new", "Order confirmation %d", "Holiday schedule"}
	spamSubject = []string{"You have won a prize!", "URGENT: verify your account now", "Cheap meds %d%% off",
		"Your parcel is waiting - action required", "Make $%d a day from home", "Re: your invoice (unpaid)",
		"Congratulations, you were selected", "Final notice: mailbox full"}
	utf8Subject = []string{"Grüße aus München", "Счёт на оплату №%d", "Ελληνικά νέα", "お知らせ %d", "Réunion de l'équipe"}
	utf8Locals  = []string{"jürgen", "søren", "иван", "dimitrios.κ", "zoë"}
	mailers     = []string{"Microsoft Outlook 16.0", "Thunderbird 115.3", "PHPMailer 6.8.0", "Apple Mail (2.3774)", "Roundcube Webmail"}
	words       = strings.Fields(`the of and to in is you that it for on was with as have be at one
		this from or had by not word but what some we can out other were all there when up use your how said
		an each she which do their time if will way about many then them write would like so these her long
		make thing see him two has look more day could go come did number sound no most people my over know
		water than call first who may down side been now find any new work part take get place made live where
		after back little only round man year came show every good me give our under name very through just
		form sentence great think say help low line differ turn cause much mean before move right boy old too
		same tell does set three want air well also play small end put home read hand port large spell add even`)
)

// deferral is one reason the test relay or a remote server gave for not delivering, with the
// fields the bounce daemon logs for it.
type deferral struct {
	status, reason, diagType, diagText, mta string
}

// deferralFor picks the reason mail to a domain is stuck. The choice depends on the domain
// only, so that all recipients at one destination share one reason, as on a real queue.
func deferralFor(domain string) deferral {
	h := uint32(2166136261)
	for i := 0; i < len(domain); i++ {
		h = (h ^ uint32(domain[i])) * 16777619
	}
	mx := "mx1." + domain
	ip := fmt.Sprintf("192.0.2.%d", h%250+1)
	switch h % 6 {
	case 0, 1:
		return deferral{status: "4.4.1", reason: "delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:2526: Connection refused"}
	case 2:
		text := "450 4.7.1 Greylisted, please try again later"
		return deferral{status: "4.7.1", diagType: "smtp", diagText: text, mta: mx,
			reason: fmt.Sprintf("host %s[%s] said: %s (in reply to RCPT TO command)", mx, ip, text)}
	case 3:
		return deferral{status: "4.4.1", reason: fmt.Sprintf("connect to %s[%s]:25: Connection timed out", mx, ip)}
	case 4:
		text := "452 4.2.2 Mailbox full"
		return deferral{status: "4.2.2", diagType: "smtp", diagText: text, mta: mx,
			reason: fmt.Sprintf("host %s[%s] said: %s (in reply to RCPT TO command)", mx, ip, text)}
	default:
		return deferral{status: "4.4.3", reason: fmt.Sprintf("Host or domain name not found. Name service error for name=%s type=MX: Host not found, try again", domain)}
	}
}

// senderAddress is the address of the sender at Zipf rank k: a small set of ranks sends most
// of the mail, as on a queue filled by a spam run or a mailing list.
func senderAddress(k int) string {
	local := firstNames[k%len(firstNames)] + "." + lastNames[(k/len(firstNames))%len(lastNames)]
	switch k % 7 {
	case 3:
		local = "newsletter"
	case 5:
		local = "noreply"
	}
	if k == 0 {
		local = "hijacked"
	}
	return fmt.Sprintf("%s%d@%s", local, k, senderDomain(k/5))
}

// senderDomain names sender domain number k.
func senderDomain(k int) string {
	w := domainWords[k%len(domainWords)]
	kind := domainKinds[(k/len(domainWords))%len(domainKinds)]
	if n := k / (len(domainWords) * len(domainKinds)); n > 0 {
		return fmt.Sprintf("%s%s%d.test", kind, w, n)
	}
	return kind + w + ".test"
}

// recipientDomain names recipient domain number k: the big mailbox providers first, then a
// long tail of company domains.
func recipientDomain(k int) string {
	if k < len(bigDomains) {
		return bigDomains[k]
	}
	return senderDomain(k - len(bigDomains) + 7)
}

// localPart makes a plausible mailbox name.
func localPart(rng *rand.Rand, utf8 bool) string {
	if utf8 && rng.IntN(2) == 0 {
		return utf8Locals[rng.IntN(len(utf8Locals))]
	}
	f, l := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	switch rng.IntN(10) {
	case 0:
		return fmt.Sprintf("%s%d", f, rng.IntN(10000))
	case 1:
		return f[:1] + l
	case 2:
		return f + "_" + l
	case 3:
		if rng.IntN(50) == 0 {
			return f + " " + l // needs quoting: "anna meyer"@x.test
		}
	}
	return f + "." + l
}

// subjectFor picks a Subject: spam for the busiest sender, otherwise ordinary business mail,
// with a share of non-ASCII subjects.
func subjectFor(rng *rand.Rand, spam, utf8 bool) string {
	var pool []string
	switch {
	case utf8:
		pool = utf8Subject
	case spam:
		pool = spamSubject
	default:
		pool = normalSubject
	}
	s := pool[rng.IntN(len(pool))]
	if strings.Contains(s, "%") {
		s = fmt.Sprintf(s, rng.IntN(900)+100)
	}
	return s
}

// textLine makes one body line of about width characters from common words.
func textLine(rng *rand.Rand, width int) string {
	var b strings.Builder
	for b.Len() < width {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rng.IntN(len(words))])
	}
	return b.String()
}

// base64Line makes one 76-character line of an encoded attachment.
func base64Line(rng *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 76)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
