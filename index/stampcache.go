package index

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"iter"

	"github.com/mqsql/mqsql"
)

// The stamp cache holds what loadFiles reads from the queue_files rows (a key of the path and
// the stamp), packed into blobs of 4096 entries in the stamp_cache table, so that a warm start
// reads a few hundred blobs instead of eight columns of every row: through the driver each
// column costs calls that take the connection's mutex, and at 1,000,000 messages the rows
// were over a quarter of a warm start's CPU (docs/BENCHMARKS.md). It is only a copy: triggers
// on queue_files empty it at any change to a row (schema.sql), so a cache that is there
// describes the rows as they are. A warm Sync that did not read it, or whose own changes
// emptied it, writes it again in the same transaction; a full load leaves that to the next
// warm Sync, to stay as fast as it can.
//
// Chunk 0 is a header: cacheMagic, keyOf of cacheProbe (a cache written with another hash
// of the paths is not used) and the number of entries; chunks 1.. hold the entries.

const (
	cacheMagic        = "MQSTAMP2"
	cacheProbe        = "mqsql stamp cache"
	cacheEntrySize    = 9 * 8 // key, id, inode, size, mode, mtime, log size, log mtime, locked
	cacheHeaderSize   = 3 * 8
	cacheChunkEntries = 4096 // entries per chunk: 256 KB blobs
)

// cacheEntry is one row of the cache: the key of its path and its stamp.
type cacheEntry struct {
	key uint64
	s   stamp
}

// loadCached fills k from the stamp cache, if the index has one of rows entries (the number
// of queue_files rows) written with today's keyOf; it reports whether it did. On false, k
// holds no file stamps.
func (k *knownFiles) loadCached(ctx context.Context, ix *Index, rows int) (bool, error) {
	d := cacheDecoder{k: k, rows: rows, ok: true}
	err := ix.eachDriverRow(ctx, "SELECT entries FROM stamp_cache ORDER BY chunk", 1, d.chunk)
	ok := err == nil && d.done()
	if !ok {
		k.stamps, k.ambiguous = k.stamps[:0], nil
		clear(k.files)
	}
	if err != nil {
		return false, fmt.Errorf("read stamp cache: %w", err)
	}
	return ok, nil
}

// cacheDecoder adds the entries of the cache's chunks to k, the header first, as long as they
// are a cache of rows entries written with today's keyOf (ok).
type cacheDecoder struct {
	k             *knownFiles
	rows, entries int
	header, ok    bool
}

func (d *cacheDecoder) chunk(vals []driver.Value) error {
	b, isBlob := vals[0].([]byte)
	switch {
	case !d.ok:
	case !isBlob:
		d.ok = false
	case !d.header:
		d.header = true
		d.ok = len(b) == cacheHeaderSize && string(b[:8]) == cacheMagic &&
			binary.LittleEndian.Uint64(b[8:]) == keyOf(cacheProbe) && binary.LittleEndian.Uint64(b[16:]) == uint64(d.rows)
	case len(b)%cacheEntrySize != 0:
		d.ok = false
	default:
		for ; len(b) > 0; b = b[cacheEntrySize:] {
			e := decodeEntry(b)
			d.k.addKey(e.key, e.s)
			d.entries++
		}
	}
	return nil
}

// done reports whether the chunks were a whole cache.
func (d *cacheDecoder) done() bool { return d.ok && d.header && d.entries == d.rows }

func decodeEntry(b []byte) cacheEntry {
	v := func(i int) int64 { return int64(binary.LittleEndian.Uint64(b[8*i:])) }
	return cacheEntry{
		key: binary.LittleEndian.Uint64(b),
		s: stamp{id: v(1), st: mqsql.Stamp{Inode: uint64(v(2)), Size: v(3), Mode: uint32(v(4)), ModTimeNanos: v(5),
			Log: mqsql.LogStamp{Size: v(6), ModTimeNanos: v(7)}, Locked: v(8) != 0}},
	}
}

func appendEntry(b []byte, e cacheEntry) []byte {
	st := e.s.st
	locked := uint64(0)
	if st.Locked {
		locked = 1
	}
	for _, v := range [...]uint64{e.key, uint64(e.s.id), st.Inode, uint64(st.Size), uint64(st.Mode),
		uint64(st.ModTimeNanos), uint64(st.Log.Size), uint64(st.Log.ModTimeNanos), locked} {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

// writeCache replaces the cache by the entries of each, inside tx.
func writeCache(ctx context.Context, tx *sql.Tx, each iter.Seq[cacheEntry]) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM stamp_cache"); err != nil {
		return fmt.Errorf("write stamp cache: %w", err)
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO stamp_cache (chunk, entries) VALUES (?, ?)")
	if err != nil {
		return fmt.Errorf("write stamp cache: %w", err)
	}
	defer st.Close()
	chunk, n := 1, 0
	buf := make([]byte, 0, cacheChunkEntries*cacheEntrySize)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := st.ExecContext(ctx, chunk, buf)
		chunk, buf = chunk+1, buf[:0]
		return err
	}
	for e := range each {
		buf = appendEntry(buf, e)
		n++
		if len(buf) == cap(buf) {
			if err := flush(); err != nil {
				return fmt.Errorf("write stamp cache: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("write stamp cache: %w", err)
	}
	header := append([]byte(cacheMagic), make([]byte, 16)...)
	binary.LittleEndian.PutUint64(header[8:], keyOf(cacheProbe))
	binary.LittleEndian.PutUint64(header[16:], uint64(n))
	if _, err := st.ExecContext(ctx, 0, header); err != nil {
		return fmt.Errorf("write stamp cache: %w", err)
	}
	return nil
}

// cacheEmpty reports whether the cache is empty: never written, or emptied by a change.
func cacheEmpty(ctx context.Context, tx *sql.Tx) (bool, error) {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM stamp_cache LIMIT 1)").Scan(&n); err != nil {
		return false, fmt.Errorf("read stamp cache: %w", err)
	}
	return n == 0, nil
}

// noteReplaced records that a warm Sync dropped row id to write its file again.
func (k *knownFiles) noteReplaced(id int64) {
	if k == nil {
		return
	}
	if k.replaced == nil {
		k.replaced = map[int64]bool{}
	}
	k.replaced[id] = true
}

// noteInserted records the rows a warm Sync wrote for msgs, whose ids the writer put in rows.
func (k *knownFiles) noteInserted(msgs []*mqsql.Message, rows []rowValues) {
	if k == nil {
		return
	}
	for i, m := range msgs {
		f := m.File
		k.inserted = append(k.inserted, cacheEntry{key: keyOf(f.Path), s: stamp{id: rows[i].file[0].(int64), st: f.Stamp}})
	}
}

// saveCache writes the stamp cache at the end of a warm Sync, unless the one it read is still
// there: none of the Sync's changes emptied it.
func (k *knownFiles) saveCache(ctx context.Context, tx *sql.Tx) error {
	if k.fromCache {
		if empty, err := cacheEmpty(ctx, tx); err != nil || !empty {
			return err
		}
	}
	return writeCache(ctx, tx, k.rowsNow())
}

// rowsNow yields the stamps of the rows after a warm Sync: those it found unchanged or left
// as they were (a file gone before it could be read again keeps its row until the next look),
// and those it wrote. Rows of files the walk did not find, and of ambiguous keys, are gone.
func (k *knownFiles) rowsNow() iter.Seq[cacheEntry] {
	return func(yield func(cacheEntry) bool) {
		for key, i := range k.files {
			s := k.stamps[i]
			if s.ambiguous || s.seen == 0 || k.replaced[s.id] {
				continue
			}
			if !yield(cacheEntry{key, s}) {
				return
			}
		}
		for _, e := range k.inserted {
			if !yield(e) {
				return
			}
		}
	}
}
