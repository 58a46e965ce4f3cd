package sendmail

import (
	"fmt"
	"io"

	"golang.org/x/text/encoding/htmlindex"
)

// charsetReader lets RFC 2047 words in any charset the WHATWG encoding index knows be
// decoded: spam and legitimate mail arrive in windows-1251, koi8-r, iso-2022-jp and more.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("charset %q: %w", charset, err)
	}
	return enc.NewDecoder().Reader(input), nil
}
