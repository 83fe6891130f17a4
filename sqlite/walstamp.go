package sqlite

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
)

// Every tenant request asks for its project's version (TenantVersion), and
// with this driver that query is about a fifth of the server's time on a
// cached page: the pool, the statement, the VDBE and two fcntl calls for
// the WAL read lock. Between two commits the answer cannot change, and
// SQLite says when a commit happened: in WAL mode, every process sharing
// the file keeps the WAL-index header in the first bytes of the -shm file,
// and every commit rewrites it (its change counter, last frame and checksum
// are new, and the salts are new when the WAL restarts). The layout is part
// of SQLite's documented file format (https://sqlite.org/walformat.html,
// "The WAL-Index Header"): processes of different SQLite versions share it.
//
// So TenantVersion reads the header (one pread of 96 bytes) and answers
// from versions it read while the header had the same bytes; any other
// header, or one a writer is halfway through (its two copies differ), sends
// it to the database. An answer is still one a query gave after the last
// commit acknowledged before the request: a cached version was read by a
// query that began after its header was read, and the header has not
// changed since, so no commit has either.

// walHeaderSize is the WAL-index header's size: two copies of the 48-byte
// WalIndexHdr, written second copy first.
const walHeaderSize = 96

type walHeader [walHeaderSize]byte

// walStamp reads the WAL-index header of a database's -shm file.
//
// Two rules of POSIX file locks shape it. Closing any descriptor of a file
// drops every fcntl lock the process holds on that file, so the -shm file
// opened here is closed only when no store of this process has the
// database open any more (the descriptors are shared, counted by refs): the
// SQLite connections' locks on it are gone by then. And SQLite deletes the
// -shm file when the last connection of any process closes, and a new
// connection would create another; a descriptor of the deleted one would
// see no commit again. So the store keeps one connection open as long as it
// is open (Store.pin), and the file cannot be deleted under it.
type walStamp struct {
	f      *os.File
	usable bool // the header is one this code knows
	refs   int
}

// stamps are the open -shm files of this process.
var stamps struct {
	sync.Mutex
	open []*walStamp
}

// openWALStamp opens the -shm file of the database at path, or shares the
// descriptor another store of this process has open. It returns nil when
// the file cannot be opened; read fails on a stamp whose header is not one
// this code knows (then every TenantVersion queries).
func openWALStamp(path string) *walStamp {
	info, err := os.Stat(path + "-shm") // no descriptor: nothing to close
	if err != nil {
		return nil
	}
	stamps.Lock()
	defer stamps.Unlock()
	for _, w := range stamps.open {
		if other, err := w.f.Stat(); err == nil && os.SameFile(info, other) {
			w.refs++
			return w
		}
	}
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil
	}
	w := &walStamp{f: f, refs: 1, usable: true}
	var h walHeader
	// iVersion 3007000, isInit 1: the WAL-index format every SQLite since
	// 3.7.0 writes.
	w.usable = w.read(&h) && binary.NativeEndian.Uint32(h[0:4]) == 3007000 && h[12] == 1
	stamps.open = append(stamps.open, w)
	return w
}

// read reads the header into h and reports whether its two copies agree.
func (w *walStamp) read(h *walHeader) bool {
	if !w.usable {
		return false
	}
	n, err := w.f.ReadAt(h[:], 0)
	return err == nil && n == walHeaderSize && bytes.Equal(h[:48], h[48:])
}

// release gives up one store's use of w, after the store closed its
// connections, and closes the file when no store uses it.
func (w *walStamp) release() error {
	if w == nil {
		return nil
	}
	stamps.Lock()
	defer stamps.Unlock()
	if w.refs--; w.refs > 0 {
		return nil
	}
	stamps.open = slices.DeleteFunc(stamps.open, func(o *walStamp) bool { return o == w })
	if err := w.f.Close(); !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}

// versionCache holds project versions read while the WAL-index header was
// stamp.
type versionCache struct {
	mu       sync.Mutex
	stamp    walHeader
	versions map[string]int64
}

// maxCachedVersions bounds the cache: past it, it starts over.
const maxCachedVersions = 1 << 16

func (c *versionCache) get(h *walHeader, projectID string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamp != *h {
		return 0, false
	}
	v, ok := c.versions[projectID]
	return v, ok
}

// put records v, read by a query that began after the header was h.
func (c *versionCache) put(h *walHeader, projectID string, v int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamp != *h || len(c.versions) >= maxCachedVersions {
		c.stamp, c.versions = *h, make(map[string]int64)
	}
	c.versions[projectID] = v
}

// pinConnection takes the reader connection the store holds while it is
// open, makes it map the -shm file (its first read does), and then opens
// the stamp.
func (s *Store) pinConnection(ctx context.Context, path string) error {
	var err error
	if s.pin, err = s.r.Conn(ctx); err != nil {
		return fmt.Errorf("sqlite: pin a reader: %w", err)
	}
	var v int
	if err := s.pin.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: pin a reader: %w", err)
	}
	s.stamp = openWALStamp(path)
	return nil
}
