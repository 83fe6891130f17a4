package sqlite

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
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
type walStamp struct {
	f *os.File
}

// openWALStamp opens the -shm file of the database at path, or returns nil
// when there is none or its header is not one this code knows (then every
// TenantVersion queries). The file exists while the store's connections
// are open: the writer's connection keeps it in WAL mode.
func openWALStamp(path string) *walStamp {
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil
	}
	w := &walStamp{f: f}
	var h walHeader
	// iVersion 3007000, isInit 1: the WAL-index format every SQLite since
	// 3.7.0 writes.
	if !w.read(&h) || binary.NativeEndian.Uint32(h[0:4]) != 3007000 || h[12] != 1 {
		f.Close()
		return nil
	}
	return w
}

// read reads the header into h and reports whether its two copies agree.
func (w *walStamp) read(h *walHeader) bool {
	n, err := w.f.ReadAt(h[:], 0)
	return err == nil && n == walHeaderSize && bytes.Equal(h[:48], h[48:])
}

// close closes the file; closing it again is not an error, as closing a
// Store again is not.
func (w *walStamp) close() error {
	if w == nil {
		return nil
	}
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
