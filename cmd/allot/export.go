package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// wantsCSV reports whether a command's arguments ask for --csv.
func wantsCSV(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "csv" {
			return strings.TrimLeft(a, "-") != "csv=false"
		}
	}
	return false
}

// exportQuery reads a command's filter flags into the management API's
// query (renamed as given) and its --csv flag.
func (m *Main) exportQuery(name string, args []string, flags []string, rename map[string]string) (common, url.Values, bool, error) {
	var c common
	fs := m.flags(name, &c)
	q := url.Values{}
	for _, flagName := range flags {
		fs.Func(flagName, "filter: "+flagName, func(v string) error {
			key := flagName
			if to, ok := rename[flagName]; ok {
				key = to
			}
			q.Set(key, v)
			return nil
		})
	}
	csv := fs.Bool("csv", false, "write RFC 4180 CSV with a header row")
	err := m.parse(fs, args)
	return c, q, *csv, err
}

// ledgerCSV is allot ledger --csv: the whole selection, written a page at a
// time as the management API's GET /admin/v1/ledger?format=csv writes it.
func (m *Main) ledgerCSV(ctx context.Context, args []string) error {
	c, q, _, err := m.exportQuery("ledger", args, []string{"project", "resource", "from", "to"},
		map[string]string{"project": "project_id", "resource": "resource_id"})
	if err != nil {
		return err
	}
	lq, err := api.ParseLedgerQuery(q.Encode())
	if err != nil {
		return opError{err}
	}
	svc, _, closeStore, err := openService(ctx, &c)
	if err != nil {
		return err
	}
	defer closeStore()
	w := bufio.NewWriter(m.Stdout)
	out, err := api.NewLedgerCSV(w)
	if err != nil {
		return err
	}
	err = svc.EachLedgerPage(ctx, cliActor, lq, func(entries []allot.LedgerEntry) error {
		if err := out.Write(entries); err != nil {
			return err
		}
		return w.Flush()
	})
	if err != nil {
		if allot.ErrorCodeOf(err) != allot.EINTERNAL {
			return opError{err}
		}
		return err
	}
	return w.Flush()
}

// usage is allot usage: a project's usage buckets, as GET /admin/v1/usage
// answers them (JSON, or CSV with --csv).
func (m *Main) usage(ctx context.Context, args []string) error {
	c, q, csv, err := m.exportQuery("usage", args, []string{"project", "from", "to", "group-by"},
		map[string]string{"project": "project_id", "group-by": "group_by"})
	if err != nil {
		return err
	}
	f, _, err := api.ParseUsageQuery(q.Encode())
	if err != nil {
		return opError{err}
	}
	svc, store, closeStore, err := openService(ctx, &c)
	if err != nil {
		return err
	}
	defer closeStore()
	buckets, err := svc.Usage(ctx, cliActor, store, f)
	if err != nil {
		return opError{err}
	}
	if csv {
		return api.WriteUsageCSV(m.Stdout, buckets)
	}
	body, err := api.EncodeUsage(f, buckets)
	if err != nil {
		return err
	}
	_, err = m.Stdout.Write(append(body, '\n'))
	return err
}

// durationCfg is allot duration-cfg: it prints a tenant's voice training
// durations, or, given JSON (keys as ShowTenantDurationCfg answers them),
// sets those over the current values and prints the result.
func (m *Main) durationCfg(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("duration-cfg", &c)
	project := fs.String("project", "", "the tenant project (required)")
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	if err := allot.ValidateID("--project", *project); err != nil {
		return usageError{err}
	}
	var body []byte
	if fs.NArg() > 0 {
		var err error
		if body, err = m.jsonArg(fs, false); err != nil {
			return err
		}
	}
	_, store, closeStore, err := openService(ctx, &c)
	if err != nil {
		return err
	}
	defer closeStore()
	tenants := &allot.Tenants{Store: store}
	cfg, err := tenants.TenantDurationCfg(ctx, *project)
	if err != nil {
		return opError{err}
	}
	if body != nil {
		if cfg, err = api.DecodeDurationCfg(body, cfg); err != nil {
			return opError{err}
		}
		if err := tenants.SetTenantDurationCfg(ctx, *project, cfg); err != nil {
			return opError{err}
		}
	}
	out, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	_, err = m.Stdout.Write(append(out, '\n'))
	return err
}
