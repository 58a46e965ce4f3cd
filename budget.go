package mqsql

import (
	"errors"
	"fmt"
	"sync"
)

// MaxRecipients is how many recipients of one message are indexed; past it the message's
// Error says so and the rest are left out. Postfix's own paths into the queue stay far below:
// smtpd takes 1,000 per transaction (smtpd_recipient_limit), cleanup expands an alias to at
// most 1,000 (virtual_alias_expansion_limit), and a sendmail command line fits in 2 MiB
// (ARG_MAX), about 100,000 addresses of 20 bytes. One message at this limit raises the
// indexer's peak RSS by about 110 MB (TestMemoryBound: 126 MB in all), and RecipientBudget
// lets only one such message be held at a time.
const MaxRecipients = 100000

// freeRecipients is how many recipients a message may have before its reader must hold the
// budget's allowance for big messages. A normal queue stays below it: in the benchmark queue
// (docs/BENCHMARKS.md: 2,876,832 recipients in 1,000,000 messages) 97 % of the messages have
// at most 10 recipients and none more than 50. The readers of a run hold about 1,100 messages
// at once (bulk readers' batches and the queue between them and the writer), so small
// messages hold at most about 110,000 recipients together.
const freeRecipients = 100

// bigRecipients is how many recipients past the first freeRecipients of each message one run
// may index, over all its messages: three messages at MaxRecipients. The in-memory index
// costs about 510 bytes per recipient stored (measured: four files of 100,000 recipients
// peaked 153 MB above one, TestMemoryBound), so this is about 150 MB of index on top of the
// one big message the readers hold (about 110 MB), which keeps the run under the project's
// 400 MB target. A normal queue never draws on it: no message of the benchmark queue has more
// than 50 recipients.
const bigRecipients = 300000

// ErrBudgetCanceled reports a read given up while it waited for the budget, because the run
// it belongs to ended.
var ErrBudgetCanceled = errors.New("read canceled while waiting for the recipient budget")

// RecipientBudget bounds the recipients the readers of one run hold at once, across their
// goroutines. Each message may hold freeRecipients recipients freely; to read more, its reader
// takes the budget's one allowance for big messages and keeps it until the run's writer has
// stored the message (Release). A big message is thus read only while no other one is held,
// and what every reader holds together stays below freeRecipients per message in flight plus
// MaxRecipients: however many big files a spool has, and however many goroutines read them.
// Over the run, big messages may have bigRecipients recipients past their first
// freeRecipients. A message past MaxRecipients, or past what is left of the run's budget, is
// still a message, with its first recipients and Error saying which limit it hit; which of
// several big messages a run's budget lasts for depends on the order the readers reach them.
type RecipientBudget struct {
	allowance chan struct{}
	done      <-chan struct{}
	mu        sync.Mutex
	holder    *Message
	// spent counts the recipients past freeRecipients read so far; only the holder of the
	// allowance changes it, the hand-over of the allowance orders the changes.
	spent int
}

// NewRecipientBudget returns the budget of one run; done ends waits for it (the run's
// context's Done channel).
func NewRecipientBudget(done <-chan struct{}) *RecipientBudget {
	b := &RecipientBudget{allowance: make(chan struct{}, 1), done: done}
	b.allowance <- struct{}{}
	return b
}

// acquire takes the allowance for m, waiting until the message holding it is stored.
func (b *RecipientBudget) acquire(m *Message) error {
	select {
	case <-b.allowance:
	case <-b.done:
		return ErrBudgetCanceled
	}
	b.mu.Lock()
	b.holder = m
	b.mu.Unlock()
	return nil
}

// spend counts one more recipient of the big message m holds the allowance for, and reports
// false once the run's bigRecipients are spent.
func (b *RecipientBudget) spend() bool {
	if b.spent >= bigRecipients {
		return false
	}
	b.spent++
	return true
}

// Holds reports whether m holds the allowance. Its reader must hand m to the writer at once
// rather than keep it in a batch: every other big message waits until m is stored.
func (b *RecipientBudget) Holds(m *Message) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.holder == m
}

// Release gives the allowance back if m holds it; the writer calls it for every message once
// the message is stored, or dropped.
func (b *RecipientBudget) Release(m *Message) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.holder == m && m != nil {
		b.holder = nil
		b.allowance <- struct{}{}
	}
}

// LimitError reports a recipient a reader may not index: past MaxRecipients, or past what is
// left of the run's budget for big messages. The message is still a row, with the recipients
// read so far; a driver puts the error's text in Message.Error.
type LimitError struct {
	Count  int  // recipients the message already holds
	Budget bool // the run's budget ran out, not the per-message limit
}

func (e *LimitError) Error() string {
	if e.Budget {
		return fmt.Sprintf("more than %d recipients once this run's budget of %d recipients for big messages was spent (mqsql's memory limit): the others are not indexed", e.Count, bigRecipients)
	}
	return fmt.Sprintf("more than %d recipients (mqsql's limit per message): the others are not indexed", MaxRecipients)
}

// Admit decides whether m, whose reader shares budget b (nil: none), may hold one more
// recipient: nil if so, a *LimitError if a limit says no, ErrBudgetCanceled if the run ended
// while the reader waited for the allowance. Every driver's reader asks it before adding a
// recipient, so that all MTAs' queues are bounded by the same rule.
func (b *RecipientBudget) Admit(m *Message) error {
	n := len(m.Recipients)
	if n >= MaxRecipients {
		return &LimitError{Count: n}
	}
	if n < freeRecipients || b == nil {
		return nil
	}
	if n == freeRecipients {
		if err := b.acquire(m); err != nil {
			return err
		}
	}
	if !b.spend() {
		return &LimitError{Count: n, Budget: true}
	}
	return nil
}

// RecipientHint is a capacity hint for a message claiming n recipients: at most
// freeRecipients, since a false count must not make a reader allocate for millions.
func RecipientHint(n int) int { return min(max(n, 0), freeRecipients) }
