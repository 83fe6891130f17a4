package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/internal/progress"
)

// maxImportLine bounds one JSON line.
const maxImportLine = 1 << 20

func (m *Main) importFile(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("import", &c)
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("import: give exactly one FILE ('-' for standard input)")}
	}
	var f *os.File
	if name := fs.Arg(0); name != "-" {
		var err error
		if f, err = os.Open(name); err != nil {
			return err
		}
		defer f.Close()
	} else {
		// The import reads its input more than once: standard input is
		// copied to a temporary file first.
		tmp, err := spool(m.Stdin)
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		f = tmp
	}
	var size int64
	if info, err := f.Stat(); err == nil && fs.Arg(0) != "-" {
		size = info.Size()
	}
	var term io.Writer
	if e, ok := m.Stderr.(*os.File); ok && size > 0 {
		term = progress.Terminal(e)
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	src := &fileSource{f: f, size: size, term: term, now: time.Now().UTC().Truncate(time.Second)}
	if err := store.ImportStream(ctx, src.each); err != nil {
		return fmt.Errorf("nothing imported: %w", err)
	}
	fmt.Fprintf(m.Stdout, "imported %d projects, %d resources, %d assignments\n", src.projects, src.resources, src.assignments)
	return nil
}

// spool copies r to a new temporary file, positioned at its start.
func spool(r io.Reader) (*os.File, error) {
	tmp, err := os.CreateTemp("", "allot-import-*.jsonl")
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return tmp, nil
}

// fileSource is an import file as an allot.ImportSource: each call reads
// the file from its start. Lines are decoded and validated in parallel, a
// block of lines per worker, and yielded in file order; at most a few blocks
// per worker are in memory at a time.
type fileSource struct {
	f    *os.File
	size int64
	term io.Writer // progress bars; nil for none
	now  time.Time // the creation time of the projects
	pass int

	// Counts of the last pass, for the summary.
	projects, resources, assignments int
}

// importBlock is how many lines a worker decodes at a time.
const importBlock = 1024

type lineBlock struct {
	first int64  // the line number of lines[0]
	buf   []byte // the lines' bytes
	ends  []int  // end of each line in buf
	read  int64  // file bytes read up to the end of the block
	done  chan []allot.SourceItem
	err   error // the first line that did not decode, with its number
	items []allot.SourceItem
}

func (s *fileSource) each(yield func(allot.SourceItem) error) error {
	s.pass++
	s.projects, s.resources, s.assignments = 0, 0, 0
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	label := "checking"
	if s.pass > 1 {
		label = "importing"
	}
	var bar *progress.Bar
	if s.term != nil {
		bar = progress.New(s.term, label, s.size)
		defer bar.Finish()
	}
	workers := max(1, runtime.GOMAXPROCS(0))
	ordered := make(chan *lineBlock, 2*workers) // blocks in file order
	work := make(chan *lineBlock, 2*workers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait() // nothing reads the file once this returns
	defer close(stop)
	var readErr error
	wg.Go(func() { // the reader: the file, cut into blocks
		defer close(ordered)
		defer close(work)
		readErr = s.read(ordered, work, stop)
	})
	for range workers {
		wg.Go(func() {
			for b := range work {
				b.decode(s.now)
				close(b.done)
			}
		})
	}
	for b := range ordered {
		<-b.done
		for _, it := range b.items {
			switch {
			case it.Project != nil:
				s.projects++
			case it.Resource != nil:
				s.resources++
			case it.Assignment != nil:
				s.assignments++
			}
			if err := yield(it); err != nil {
				return err
			}
		}
		if b.err != nil {
			return b.err
		}
		if bar != nil {
			bar.Set(b.read)
		}
	}
	return readErr
}

// read cuts the file into blocks of lines and hands each to the workers
// and, in order, to the consumer.
func (s *fileSource) read(ordered, work chan<- *lineBlock, stop <-chan struct{}) error {
	cr := &countReader{r: s.f}
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 64<<10), maxImportLine)
	var n int64
	b := &lineBlock{first: 1}
	send := func() bool {
		b.read = cr.n
		b.done = make(chan []allot.SourceItem)
		select {
		case ordered <- b:
		case <-stop:
			return false
		}
		select {
		case work <- b:
		case <-stop:
			return false
		}
		return true
	}
	for sc.Scan() {
		n++
		b.buf = append(b.buf, sc.Bytes()...)
		b.ends = append(b.ends, len(b.buf))
		if len(b.ends) == importBlock {
			if !send() {
				return nil
			}
			b = &lineBlock{first: n + 1, buf: make([]byte, 0, len(b.buf))}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return allot.Errorf(allot.EINVALID, "line %d: longer than %d bytes", n+1, maxImportLine)
		}
		return err
	}
	if len(b.ends) > 0 {
		send()
	}
	return nil
}

// decode decodes a block's lines up to the first that does not decode.
func (b *lineBlock) decode(now time.Time) {
	b.items = make([]allot.SourceItem, 0, len(b.ends))
	start := 0
	for i, end := range b.ends {
		line := b.first + int64(i)
		raw := bytes.TrimSpace(b.buf[start:end])
		start = end
		if len(raw) == 0 {
			continue
		}
		item, err := api.DecodeImportLine(raw, now)
		if err != nil {
			var e *allot.Error
			if errors.As(err, &e) && e.Code != allot.EINTERNAL {
				b.err = &allot.Error{Code: e.Code, Message: fmt.Sprintf("line %d: %s", line, e.Message)}
			} else {
				b.err = fmt.Errorf("line %d: %w", line, err)
			}
			return
		}
		b.items = append(b.items, allot.SourceItem{Line: line, Project: item.Project, Resource: item.Resource, Assignment: item.Assignment})
	}
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
