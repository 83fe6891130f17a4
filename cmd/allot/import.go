package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	in := m.Stdin
	var size int64
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if info, err := f.Stat(); err == nil {
			size = info.Size()
		}
		in = f
	}
	var bar *progress.Bar
	if f, ok := m.Stderr.(*os.File); ok && size > 0 {
		bar = progress.New(progress.Terminal(f), "reading", size)
		in = &countingReader{r: in, bar: bar}
	}
	batch, err := readImport(in)
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Import(ctx, batch); err != nil {
		return fmt.Errorf("nothing imported: %w", err)
	}
	fmt.Fprintf(m.Stdout, "imported %d projects, %d resources, %d assignments\n",
		len(batch.Projects), len(batch.Resources), len(batch.Assignments))
	return nil
}

// countingReader moves a progress bar by the bytes read through it.
type countingReader struct {
	r   io.Reader
	n   int64
	bar *progress.Bar
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.bar.Set(c.n)
	return n, err
}

// readImport parses and validates every line, so that a bad line is reported
// with its number before anything is written.
func readImport(in io.Reader) (allot.ImportBatch, error) {
	var b allot.ImportBatch
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), maxImportLine)
	now := time.Now().UTC().Truncate(time.Second)
	seen := make(map[string]int) // entity key -> line, for duplicates within the file
	n := 0
	for sc.Scan() {
		n++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		item, err := api.DecodeImportLine(raw, now)
		if err != nil {
			return b, fmt.Errorf("line %d: %s", n, errorText(err))
		}
		item.AddTo(&b)
		key := item.Key()
		if first, dup := seen[key]; dup {
			return b, fmt.Errorf("line %d: %s is already on line %d", n, key, first)
		}
		seen[key] = n
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return b, fmt.Errorf("line %d: longer than %d bytes", n+1, maxImportLine)
		}
		return b, err
	}
	return b, nil
}
