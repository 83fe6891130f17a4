package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/internal/app"
)

// cliActor is the actor of management commands run from the CLI: whoever can
// open the database is an administrator.
var cliActor = allot.Actor{ID: "cli", Role: allot.RoleAdmin}

// openService opens the store and the lifecycle service over it for one
// management command.
func openService(ctx context.Context, c *common) (*allot.Service, allot.Store, func() error, error) {
	store, err := openStore(ctx, c.db)
	if err != nil {
		return nil, nil, nil, err
	}
	return &allot.Service{Store: store}, store, store.Close, nil
}

// opError is a refused management command: shown with the management API's
// error code and message, so the CLI and the API say the same thing; its
// exit status follows the code (exitCode).
type opError struct{ err error }

func (e opError) Error() string {
	msg := allot.ErrorMessageOf(e.err)
	if allot.ErrorCodeOf(e.err) == allot.EINTERNAL {
		msg = e.err.Error() // the operator's own machine: show the cause
	}
	return api.AdminErrorCode(e.err) + ": " + msg
}

func (e opError) Unwrap() error { return e.err }

// jsonArg reads the JSON request: the one positional argument, '-' for
// standard input, or {} when optional and absent.
func (m *Main) jsonArg(fs *flag.FlagSet, optional bool) ([]byte, error) {
	switch {
	case fs.NArg() == 0 && optional:
		return []byte("{}"), nil
	case fs.NArg() != 1:
		return nil, usageError{fmt.Errorf("%s: give the request as one JSON argument, or '-' to read it from standard input", fs.Name())}
	case fs.Arg(0) == "-":
		return io.ReadAll(io.LimitReader(m.Stdin, 1<<20))
	}
	return []byte(fs.Arg(0)), nil
}

// operation describes one management command: it decodes its JSON with
// the management API's decoder and calls the service as cliActor.
type operation struct {
	resource     bool // takes --project and --resource
	optionalBody bool
	run          func(ctx context.Context, svc *allot.Service, ref allot.ResourceRef, body []byte) (allot.OpResult, error)
}

// call decodes body with decode and runs op on the result.
func call[T any](decode func([]byte) (T, error), op func(*allot.Service, context.Context, allot.Actor, T) (allot.OpResult, error)) func(context.Context, *allot.Service, allot.ResourceRef, []byte) (allot.OpResult, error) {
	return func(ctx context.Context, svc *allot.Service, _ allot.ResourceRef, body []byte) (allot.OpResult, error) {
		req, err := decode(body)
		if err != nil {
			return allot.OpResult{}, err
		}
		return op(svc, ctx, cliActor, req)
	}
}

func reclaimOp(cancel bool) func(context.Context, *allot.Service, allot.ResourceRef, []byte) (allot.OpResult, error) {
	return func(ctx context.Context, svc *allot.Service, ref allot.ResourceRef, body []byte) (allot.OpResult, error) {
		req, err := api.DecodeReclaimRequest(ref, body, cancel)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.Reclaim(ctx, cliActor, req)
	}
}

func statusOp(status allot.ResourceStatus) func(context.Context, *allot.Service, allot.ResourceRef, []byte) (allot.OpResult, error) {
	return func(ctx context.Context, svc *allot.Service, ref allot.ResourceRef, body []byte) (allot.OpResult, error) {
		reason, err := api.DecodeStatusRequest(body)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.SetStatus(ctx, cliActor, ref, status, reason)
	}
}

var operations = map[string]operation{
	"package add": {run: call(api.DecodePackageRequest, (*allot.Service).AddPackage)},
	"allocate":    {run: call(api.DecodeAllocateRequest, (*allot.Service).Allocate)},
	"consume":     {run: call(api.DecodeConsumeRequest, (*allot.Service).Consume)},
	"reclaim":     {resource: true, run: reclaimOp(false)},
	"cancel":      {resource: true, run: reclaimOp(true)},
	"refund": {resource: true, run: func(ctx context.Context, svc *allot.Service, ref allot.ResourceRef, body []byte) (allot.OpResult, error) {
		req, err := api.DecodeRefundRequest(ref, body)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.Refund(ctx, cliActor, req)
	}},
	"freeze":   {resource: true, optionalBody: true, run: statusOp(allot.StatusFrozen)},
	"unfreeze": {resource: true, optionalBody: true, run: statusOp(allot.StatusNormal)},
	"asset bind": {resource: true, run: func(ctx context.Context, svc *allot.Service, ref allot.ResourceRef, body []byte) (allot.OpResult, error) {
		asset, err := api.DecodeBindAssetRequest(body)
		if err != nil {
			return allot.OpResult{}, err
		}
		return svc.BindAsset(ctx, cliActor, ref, &asset)
	}},
	// Like DELETE .../asset, unbind reads no body.
	"asset unbind": {resource: true, optionalBody: true, run: func(ctx context.Context, svc *allot.Service, ref allot.ResourceRef, _ []byte) (allot.OpResult, error) {
		return svc.BindAsset(ctx, cliActor, ref, nil)
	}},
}

func (m *Main) runOperation(ctx context.Context, name string, op operation, args []string) error {
	var c common
	fs := m.flags(name, &c)
	project := fs.String("project", "", "project id")
	resource := fs.String("resource", "", "resource id")
	var batch *string
	if name == "consume" {
		batch = fs.String("batch", "", "consume the events of this JSON Lines file ('-': standard input), as POST /admin/v1/consume:batch")
	}
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	if batch != nil && *batch != "" {
		return m.consumeBatch(ctx, &c, fs, *batch)
	}
	body, err := m.jsonArg(fs, op.optionalBody)
	if err != nil {
		return err
	}
	var ref allot.ResourceRef
	if op.resource {
		if err := allot.ValidateID("--project", *project); err != nil {
			return usageError{err}
		}
		if err := allot.ValidateID("--resource", *resource); err != nil {
			return usageError{err}
		}
		ref = allot.ResourceRef{ProjectID: *project, ResourceID: *resource}
	}
	svc, _, closeStore, err := openService(ctx, &c)
	if err != nil {
		return err
	}
	defer closeStore()
	out, err := op.run(ctx, svc, ref, body)
	if err != nil {
		return opError{err}
	}
	// The body the management API would answer, byte for byte.
	_, answer, err := api.EncodeResult(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, "%s\n", answer)
	return err
}

// runPage runs a paged read command: its flags become the management API's
// query parameters (renamed as given, e.g. project → project_id), parsed by
// the API's own query parser, and the page is printed as the API answers it.
func runPage[Q any](m *Main, ctx context.Context, args []string, name string, flags []string, rename map[string]string,
	parse func(string) (Q, error), read func(context.Context, *allot.Service, Q) ([]byte, error)) error {
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
	if err := m.parse(fs, args); err != nil {
		return err
	}
	query, err := parse(q.Encode())
	if err != nil {
		return opError{err}
	}
	svc, _, closeStore, err := openService(ctx, &c)
	if err != nil {
		return err
	}
	defer closeStore()
	out, err := read(ctx, svc, query)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, "%s\n", out)
	return err
}

func (m *Main) ledger(ctx context.Context, args []string) error {
	if wantsCSV(args) {
		return m.ledgerCSV(ctx, args)
	}
	return runPage(m, ctx, args, "ledger", []string{"project", "resource", "from", "to", "limit", "offset"},
		map[string]string{"project": "project_id", "resource": "resource_id"}, api.ParseLedgerQuery,
		func(ctx context.Context, svc *allot.Service, lq allot.LedgerQuery) ([]byte, error) {
			entries, count, err := svc.LedgerEntries(ctx, cliActor, lq)
			if err != nil {
				return nil, opError{err}
			}
			return api.EncodeLedgerPage(entries, count)
		})
}

// errDrift makes allot verify exit 1 when the ledger and the balances differ.
var errDrift = errors.New("drift found: balances differ from the ledger")

func (m *Main) verify(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("verify", &c)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	svc, _, closeStore, err := openService(ctx, &c)
	if err != nil {
		return err
	}
	defer closeStore()
	drift, err := svc.Drift(ctx, cliActor)
	if err != nil {
		return opError{err}
	}
	if len(drift) == 0 {
		fmt.Fprintln(m.Stdout, "no drift: every balance equals its ledger")
		return nil
	}
	for _, d := range drift {
		fmt.Fprintf(m.Stdout, "drift: project %s resource %s %s: stored %s, ledger %s\n", d.ProjectID, d.ResourceID, d.Field, d.Stored, d.Ledger)
	}
	return errDrift
}

// newAdminKey issues a management key (an sp key when sp is set); only its
// hash is stored and the key is returned once.
func newAdminKey(ctx context.Context, store allot.AdminKeys, name, sp string) (string, error) {
	return app.NewAdminKey(ctx, store, name, sp, time.Now())
}
