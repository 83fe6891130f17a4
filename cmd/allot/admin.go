package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"net/url"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// cliActor is the actor of management commands run from the CLI: whoever can
// open the database is an administrator.
var cliActor = allot.Actor{ID: "cli", Role: allot.RoleAdmin}

// ledgerStore is what the management plane needs of a store.
type ledgerStore = allot.Store

func asLedgerStore(s allot.Store) (ledgerStore, error) { return s, nil }

// adminConfig is the management plane's configuration over store.
func adminConfig(store ledgerStore, cfg api.Config) api.Config {
	cfg.Store = store
	cfg.Service = &allot.Service{Store: store}
	return cfg
}

// manage runs a management operation through the admin API's own handlers
// in-process, so the CLI and HTTP share decoding, validation and errors.
func (m *Main) manage(ctx context.Context, c *common, method, target string, body []byte) ([]byte, error) {
	store, err := openStore(ctx, c.db)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	ls, err := asLedgerStore(store)
	if err != nil {
		return nil, err
	}
	srv := api.NewAdminServer(adminConfig(ls, api.Config{}))
	status, out := srv.Invoke(ctx, cliActor, method, target, body)
	if status >= 400 {
		var e struct {
			Code string `json:"error_code"`
			Msg  string `json:"error_msg"`
		}
		json.Unmarshal(out, &e)
		return out, fmt.Errorf("%s: %s", e.Code, e.Msg)
	}
	return out, nil
}

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

// operation describes one management command.
type operation struct {
	method, path string
	resource     bool // takes --project and --resource for the path
	optionalBody bool
}

var operations = map[string]operation{
	"package add":  {method: "POST", path: "/admin/v1/packages"},
	"allocate":     {method: "POST", path: "/admin/v1/allocations"},
	"consume":      {method: "POST", path: "/admin/v1/consume"},
	"reclaim":      {method: "POST", path: "/reclaim", resource: true},
	"cancel":       {method: "POST", path: "/cancel", resource: true},
	"refund":       {method: "POST", path: "/refund", resource: true},
	"freeze":       {method: "POST", path: "/freeze", resource: true, optionalBody: true},
	"unfreeze":     {method: "POST", path: "/unfreeze", resource: true, optionalBody: true},
	"asset bind":   {method: "PUT", path: "/asset", resource: true},
	"asset unbind": {method: "DELETE", path: "/asset", resource: true, optionalBody: true},
}

func (m *Main) runOperation(ctx context.Context, name string, op operation, args []string) error {
	var c common
	fs := m.flags(name, &c)
	project := fs.String("project", "", "project id")
	resource := fs.String("resource", "", "resource id")
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	body, err := m.jsonArg(fs, op.optionalBody)
	if err != nil {
		return err
	}
	path := op.path
	if op.resource {
		if err := allot.ValidateID("--project", *project); err != nil {
			return usageError{err}
		}
		if err := allot.ValidateID("--resource", *resource); err != nil {
			return usageError{err}
		}
		path = "/admin/v1/projects/" + *project + "/resources/" + *resource + op.path
	}
	out, err := m.manage(ctx, &c, op.method, path, body)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, "%s\n", out)
	return err
}

func (m *Main) ledger(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("ledger", &c)
	q := url.Values{}
	for _, name := range []string{"project", "resource", "from", "to", "limit", "offset"} {
		fs.Func(name, "filter: "+name, func(v string) error {
			key := map[string]string{"project": "project_id", "resource": "resource_id"}[name]
			if key == "" {
				key = name
			}
			q.Set(key, v)
			return nil
		})
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	out, err := m.manage(ctx, &c, "GET", "/admin/v1/ledger?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, "%s\n", out)
	return err
}

// errDrift makes allot verify exit 1 when the ledger and the balances differ.
var errDrift = errors.New("drift found: balances differ from the ledger")

func (m *Main) verify(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("verify", &c)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	out, err := m.manage(ctx, &c, "GET", "/admin/v1/drift", nil)
	if err != nil {
		return err
	}
	var report struct {
		Drift []allot.Drift `json:"drift"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		return err
	}
	if len(report.Drift) == 0 {
		fmt.Fprintln(m.Stdout, "no drift: every balance equals its ledger")
		return nil
	}
	for _, d := range report.Drift {
		fmt.Fprintf(m.Stdout, "drift: project %s resource %s %s: stored %s, ledger %s\n", d.ProjectID, d.ResourceID, d.Field, d.Stored, d.Ledger)
	}
	return errDrift
}

func (m *Main) createAdminKey(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("admin-key create", &c)
	name := fs.String("name", "", "name of the key; recorded as the actor of every change it makes (required)")
	sp := fs.String("sp", "", "make an sp key acting for this service provider project (default: an admin key)")
	asJSON := fs.Bool("json", false, `print {"name":...,"key":...,"role":...}`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if err := (&allot.AdminKey{ID: *name, Hash: []byte{1}, Role: roleOf(*sp), SPProjectID: *sp}).Validate(); err != nil {
		return usageError{err}
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	ls, err := asLedgerStore(store)
	if err != nil {
		return err
	}
	key, err := newAdminKey(ctx, ls, *name, *sp)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(map[string]string{"name": *name, "key": key, "role": string(roleOf(*sp))})
	}
	fmt.Fprintf(m.Stdout, "admin key %s (%s): %s\n(send it as 'Authorization: Bearer KEY'; it is shown only now)\n", *name, roleOf(*sp), key)
	return nil
}

func roleOf(sp string) allot.Role {
	if sp != "" {
		return allot.RoleSP
	}
	return allot.RoleAdmin
}

// newAdminKey issues a management key (an sp key when sp is set); only its
// hash is stored and the key is returned once.
func newAdminKey(ctx context.Context, store allot.AdminKeys, name, sp string) (string, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	key := "allot-admin-" + base64.RawURLEncoding.EncodeToString(raw)
	hash := sha256.Sum256([]byte(key))
	k := allot.AdminKey{ID: name, Hash: hash[:], Role: roleOf(sp), SPProjectID: sp, CreatedAt: time.Now().UTC().Truncate(time.Second)}
	if err := k.Validate(); err != nil {
		return "", err
	}
	return key, store.CreateAdminKey(ctx, k)
}
