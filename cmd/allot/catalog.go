package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// catalogImport is allot catalog import FILE: the file (a JSON array of
// specs, or JSON Lines) replaces the whole spec catalog, all or nothing,
// decoded and checked by the same function PUT /admin/v1/catalog uses.
func (m *Main) catalogImport(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("catalog import", &c)
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("catalog import: give exactly one FILE ('-' for standard input)")}
	}
	in := m.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	body, err := io.ReadAll(io.LimitReader(in, maxImportLine+1))
	if err != nil {
		return err
	}
	if len(body) > maxImportLine {
		return allot.Invalid("FILE", "is larger than %d bytes", maxImportLine)
	}
	specs, err := api.DecodeCatalog(body)
	if err != nil {
		return fmt.Errorf("nothing imported: %w", err)
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.PutCatalog(ctx, specs); err != nil {
		return fmt.Errorf("nothing imported: %w", err)
	}
	fmt.Fprintf(m.Stdout, "catalog replaced: %d specs\n", len(specs))
	return nil
}

// catalogList is allot catalog list [--json]: the --json output is the
// body GET /admin/v1/catalog answers.
func (m *Main) catalogList(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("catalog list", &c)
	asJSON := fs.Bool("json", false, `print {"specs":[...],"count":N}, as GET /admin/v1/catalog answers`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	specs, err := store.Catalog(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		body, err := api.EncodeCatalog(specs)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(m.Stdout, "%s\n", body)
		return err
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SPEC CODE\tBUSINESS\tRESOURCE TYPE\tAMOUNT\tSUB-RESOURCES\tPERIODS\tVALIDITY")
	for _, s := range specs {
		subs := make([]string, 0, len(s.SubResources))
		for _, sr := range s.SubResources {
			subs = append(subs, fmt.Sprintf("%s %s %s", sr.ResourceType, sr.Amount, sr.Unit))
		}
		periods := "2,3,6"
		if len(s.PeriodTypes) > 0 {
			periods = strings.Trim(strings.ReplaceAll(fmt.Sprint(s.PeriodTypes), " ", ","), "[]")
		}
		validity := "-"
		if s.ValidityDays > 0 {
			validity = fmt.Sprintf("%dd", s.ValidityDays)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s %s\t%s\t%s\t%s\n", s.SpecCode, s.BusinessType, s.ResourceType, s.Amount, s.Unit,
			orDash(strings.Join(subs, "; ")), periods, validity)
	}
	return w.Flush()
}
