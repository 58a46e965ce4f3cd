package fleet

// HostColumn is the first column of a fleet's result set: the host as it was given.
const HostColumn = "host"

// ErrorColumn is the last column of a fleet's result set when some host did not answer and
// the errors travel with the rows (json and jsonl): the reason and what was said, one row
// per such host, in its place in the order of the hosts.
const ErrorColumn = "host_error"

// Combine makes one result set of the answers: host, then every column any host printed, in
// the order first seen; rows of one host together, hosts in their order; a value a host did
// not have (a column only another host's mqsql printed) is NULL. With withErrors, each
// failed host adds a row whose ErrorColumn says why.
func Combine(answers []Answer, withErrors bool) ([]string, [][]any) {
	cols := []string{HostColumn}
	index := map[string]int{}
	for _, a := range answers {
		for _, c := range a.Columns {
			if _, ok := index[c]; !ok {
				index[c] = len(cols)
				cols = append(cols, c)
			}
		}
	}
	width := len(cols)
	if withErrors && CountFailed(answers) > 0 {
		cols = append(cols, ErrorColumn)
	}
	var rows [][]any
	for _, a := range answers {
		if a.Err != nil {
			if withErrors {
				row := make([]any, len(cols))
				row[0], row[width] = a.Host, errorText(a.Err)
				rows = append(rows, row)
			}
			continue
		}
		for _, r := range a.Rows {
			row := make([]any, len(cols))
			row[0] = a.Host
			for i, v := range r {
				row[index[a.Columns[i]]] = v
			}
			rows = append(rows, row)
		}
	}
	return cols, rows
}

// errorText is a HostError without the host, which its row already names.
func errorText(err error) string {
	if he, ok := err.(*HostError); ok && he.Detail != "" {
		return he.Reason.String() + ": " + he.Detail
	} else if ok {
		return he.Reason.String()
	}
	return err.Error()
}
