package fleet

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// ReadOnlyArgs checks a command line that a fleet sent over ssh (as sshd hands it to a
// forced command in $SSH_ORIGINAL_COMMAND) and returns the arguments for the local mqsql: it
// must be exactly what Command writes, mqsql with this package's flags and one read
// statement, so a key whose authorized_keys entry forces "mqsql ssh-reader" can read the
// queue and do nothing else. The line is split as the shell would have, and never run by one.
func ReadOnlyArgs(line string) ([]string, error) {
	words, err := SplitCommand(line)
	if err != nil {
		return nil, err
	}
	if filepath.Base(words[0]) != "mqsql" {
		return nil, fmt.Errorf("refused %q: only mqsql runs with this key", words[0])
	}
	args := words[1:]
	if len(args) != len(remoteFlags)+1 || !slices.Equal(args[:len(remoteFlags)], remoteFlags) {
		return nil, fmt.Errorf("refused: this key runs only a fleet's read (mqsql %s SQL)", strings.Join(remoteFlags, " "))
	}
	if err := CheckRead(args[len(args)-1]); err != nil {
		return nil, fmt.Errorf("refused: %w", err)
	}
	return args, nil
}
