package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decodeRows reads mqsql's jsonl output: one JSON object per row, keys in column order.
// Objects are read token by token, because a Go map would lose that order. A key not seen
// before (a second result set) adds a column; rows are as long as the columns known when
// they were read, and Combine pads them.
func decodeRows(r io.Reader) ([]string, [][]any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var cols []string
	index := map[string]int{}
	var rows [][]any
	for {
		row, err := decodeObject(dec, &cols, index)
		if errors.Is(err, io.EOF) {
			return cols, rows, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("row %d: %w", len(rows)+1, err)
		}
		rows = append(rows, row)
	}
}

// decodeObject reads one object as a row, adding unseen keys to cols.
func decodeObject(dec *json.Decoder, cols *[]string, index map[string]int) ([]any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want an object, got %v", tok)
	}
	row := make([]any, len(*cols))
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw any
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		name, _ := key.(string)
		i, ok := index[name]
		if !ok {
			i = len(*cols)
			index[name] = i
			*cols = append(*cols, name)
		}
		for len(row) <= i {
			row = append(row, nil)
		}
		if row[i], err = value(raw); err != nil {
			return nil, fmt.Errorf("column %q: %w", name, err)
		}
	}
	_, err = dec.Token() // '}'
	return row, err
}

// value turns a decoded JSON value into what database/sql would have given: an integer
// stays int64, other numbers are float64.
func value(v any) (any, error) {
	switch v := v.(type) {
	case nil, string, bool:
		return v, nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, nil
		}
		return v.Float64()
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v)
}
