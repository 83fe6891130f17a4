package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// consumeBatch runs `allot consume --batch FILE`: FILE ('-' for standard
// input) holds one consume per line (JSON Lines), decoded and run as
// POST /admin/v1/consume:batch runs its events, and the answer printed is
// that endpoint's body. Some events refused makes the exit status that of
// a conflict (5), so a script sees it; the answer names each.
func (m *Main) consumeBatch(ctx context.Context, c *common, fs *flag.FlagSet, file string) error {
	if fs.NArg() != 0 {
		return usageError{fmt.Errorf("consume --batch reads its events from the file; give no JSON argument")}
	}
	var r io.Reader = m.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	// A batch has at most allot.MaxConsumeBatch lines of a few hundred bytes.
	body, err := io.ReadAll(io.LimitReader(r, 4<<20))
	if err != nil {
		return err
	}
	events := api.DecodeConsumeLines(body)
	svc, _, closeStore, err := openService(ctx, c)
	if err != nil {
		return err
	}
	defer closeStore()
	outs, err := svc.ConsumeBatch(ctx, cliActor, events)
	if err != nil {
		return opError{err}
	}
	answer, err := api.EncodeConsumeBatch(events, outs)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(m.Stdout, "%s\n", answer); err != nil {
		return err
	}
	refused := 0
	for _, o := range outs {
		if o.Err != nil {
			refused++
		}
	}
	if refused > 0 {
		return opError{allot.Errorf(allot.ECONFLICT, "%d of %d events refused", refused, len(outs))}
	}
	return nil
}
