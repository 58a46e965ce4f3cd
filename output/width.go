package output

import (
	"slices"

	"github.com/mattn/go-runewidth"
)

// cells measures text in terminal cells. Its settings are fixed rather than taken from the
// locale, as runewidth's default is, so that a table looks the same under every LANG and the
// golden files hold on every machine: ambiguous-width characters (…, ±, Greek and Cyrillic
// letters) take one cell, as in most terminals outside East Asian locales.
var cells = &runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}

// ellipsis marks a cell that table mode had to cut.
const ellipsis = "…"

// width returns the number of terminal cells s takes.
func width(s string) int {
	return cells.StringWidth(s)
}

// truncate cuts s to at most w cells, ending it with an ellipsis when something was cut.
// The result can be a cell narrower than w when a wide character would straddle the edge.
func truncate(s string, w int) string {
	return cells.Truncate(s, w, ellipsis)
}

// appendSpaces appends n spaces.
func appendSpaces(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, ' ')
	}
	return dst
}

// minTextWidth is the fewest cells a text column is cut to before numbers are cut too: a
// few characters and the ellipsis still say what a Subject or an address is about.
const minTextWidth = 6

// fitWidths returns column widths whose sum is at most budget. Text columns give up cells
// first, widest first, because a cut number is worse than useless while the start of a
// Subject still says something; only when the text columns would fall below minTextWidth
// do all columns shrink together, widest first. Columns keep at least one cell each, so the
// result can exceed a budget smaller than the number of columns. widths is not modified.
func fitWidths(widths []int, numeric []bool, budget int) []int {
	total, fixed := 0, 0
	var text []int
	for i, w := range widths {
		total += w
		if numeric[i] {
			fixed += w
		} else {
			text = append(text, w)
		}
	}
	if total <= budget {
		return widths
	}
	if len(text) > 0 {
		if fitted, level := shrinkWidest(text, budget-fixed); level >= minTextWidth {
			out := make([]int, len(widths))
			for i, w := range widths {
				if !numeric[i] {
					w, fitted = fitted[0], fitted[1:]
				}
				out[i] = w
			}
			return out
		}
	}
	fitted, _ := shrinkWidest(widths, budget)
	return fitted
}

// shrinkWidest caps the widest of widths at one level so that their sum is at most budget,
// as water finds its level: the narrow columns stay whole. It returns the new widths and
// the level, never below one cell.
func shrinkWidest(widths []int, budget int) ([]int, int) {
	sum := func(level int) int {
		total := 0
		for _, w := range widths {
			total += min(w, level)
		}
		return total
	}
	// Find the highest level that fits; sum(lo) fits unless budget < len(widths), where a
	// cell each is the least there is.
	lo, hi := 1, slices.Max(widths)
	if sum(lo) > budget {
		hi = lo
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if sum(mid) <= budget {
			lo = mid
		} else {
			hi = mid
		}
	}
	// Capping at lo+1 would not fit, so fewer columns are over lo than cells are left over:
	// hand those out one each, from the left.
	spare := max(budget-sum(lo), 0)
	fitted := make([]int, len(widths))
	for i, w := range widths {
		fitted[i] = min(w, lo)
		if w > lo && spare > 0 {
			fitted[i]++
			spare--
		}
	}
	return fitted, lo
}
