package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
)

// Listing, revoking and expiring credentials. Like the other commands that
// change credentials, these call the store directly: whoever can open the
// database is an administrator. A revocation is refused at once by every
// node for admin keys, and within api.RevocationBound (10 s) for access
// keys and tokens, which nodes cache.

// expiresFlag parses --expires: a duration from now (24h, 90m) or an RFC
// 3339 time. Empty: never.
func expiresFlag(fs *flag.FlagSet) *string {
	return fs.String("expires", "", "when the key stops working: a duration from now (e.g. 720h) or an RFC 3339 time; default: never")
}

func parseExpires(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, usageError{fmt.Errorf("--expires %s: a duration must be positive", s)}
		}
		return now.Add(d).UTC().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("--expires %q: give a duration such as 720h or an RFC 3339 time such as 2030-01-01T00:00:00Z", s)}
	}
	return t.UTC().Truncate(time.Second), nil
}

// oneArg parses fs and returns its one positional argument, named what.
func (m *Main) oneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	if err := m.parseArgs(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		return "", usageError{fmt.Errorf("%s: give the %s as the one argument, after the flags", fs.Name(), what)}
	}
	return fs.Arg(0), nil
}

// listing is one of the list commands: what it lists, how to read it from
// the store, and its table.
type listing[T any] struct {
	name       string // the command, e.g. "credential list"
	perProject string // the --project flag's help; "" when it has none
	list       func(ctx context.Context, s allot.Store, project string) ([]T, error)
	header     string
	row        func(T) []any
}

// runList parses the flags, reads the list and prints it as a table, or as
// a JSON array with --json.
func runList[T any](m *Main, ctx context.Context, args []string, l listing[T]) error {
	var c common
	fs := m.flags(l.name, &c)
	project := new(string)
	if l.perProject != "" {
		project = fs.String("project", "", l.perProject)
	}
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *project != "" {
		if err := allot.ValidateID("--project", *project); err != nil {
			return usageError{err}
		}
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	list, err := l.list(ctx, store, *project)
	if err != nil {
		return err
	}
	if *asJSON {
		return printList(m, list, []T{})
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, l.header)
	for _, item := range list {
		cells := l.row(item)
		for i, cell := range cells {
			sep := "\t"
			if i == len(cells)-1 {
				sep = "\n"
			}
			fmt.Fprint(w, cell, sep)
		}
	}
	return w.Flush()
}

// runRevoke parses the one argument naming what to revoke (what), checks it
// with valid, revokes it and says so.
func (m *Main) runRevoke(ctx context.Context, args []string, name, what, shown string, valid func(string) error, revoke func(context.Context, allot.Store, string) error) error {
	var c common
	fs := m.flags(name, &c)
	id, err := m.oneArg(fs, args, what)
	if err != nil {
		return err
	}
	if valid != nil {
		if err := valid(id); err != nil {
			return usageError{err}
		}
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := revoke(ctx, store, id); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "revoked %s %s\n", shown, id)
	return nil
}

func (m *Main) credentialList(ctx context.Context, args []string) error {
	return runList(m, ctx, args, listing[allot.CredentialInfo]{
		name: "credential list", perProject: "only this project's access keys (default: every project's)",
		list: func(ctx context.Context, s allot.Store, p string) ([]allot.CredentialInfo, error) {
			return s.ListCredentials(ctx, p)
		},
		header: "ACCESS KEY\tPROJECT\tCREATED\tEXPIRES\tREVOKED",
		row: func(k allot.CredentialInfo) []any {
			return []any{k.AccessKey, k.ProjectID, listedTime(k.CreatedAt), listedTime(k.ExpiresAt), listedTime(k.RevokedAt)}
		},
	})
}

func (m *Main) credentialRevoke(ctx context.Context, args []string) error {
	return m.runRevoke(ctx, args, "credential revoke", "access key", "access key", nil,
		func(ctx context.Context, s allot.Store, ak string) error { return s.RevokeCredential(ctx, ak) })
}

func (m *Main) tokenList(ctx context.Context, args []string) error {
	return runList(m, ctx, args, listing[allot.TokenInfo]{
		name: "token list", perProject: "only this project's tokens (default: every project's)",
		list: func(ctx context.Context, s allot.Store, p string) ([]allot.TokenInfo, error) {
			return s.ListTokens(ctx, p)
		},
		header: "ID\tPROJECT\tCREATED\tEXPIRES\tREVOKED",
		row: func(t allot.TokenInfo) []any {
			return []any{t.ID, t.ProjectID, listedTime(t.CreatedAt), listedTime(t.ExpiresAt), listedTime(t.RevokedAt)}
		},
	})
}

func (m *Main) tokenRevoke(ctx context.Context, args []string) error {
	return m.runRevoke(ctx, args, "token revoke", "token id (as token list shows it)", "token",
		func(id string) error { return allot.ValidateTokenID("token id", id) },
		func(ctx context.Context, s allot.Store, id string) error { return s.RevokeToken(ctx, id) })
}

func (m *Main) adminKeyList(ctx context.Context, args []string) error {
	return runList(m, ctx, args, listing[allot.AdminKeyInfo]{
		name: "admin-key list",
		list: func(ctx context.Context, s allot.Store, _ string) ([]allot.AdminKeyInfo, error) {
			return s.ListAdminKeys(ctx)
		},
		header: "NAME\tROLE\tSP\tCREATED\tEXPIRES\tREVOKED",
		row: func(k allot.AdminKeyInfo) []any {
			return []any{k.ID, k.Role, orDash(k.SPProjectID), listedTime(k.CreatedAt), listedTime(k.ExpiresAt), listedTime(k.RevokedAt)}
		},
	})
}

func (m *Main) adminKeyRevoke(ctx context.Context, args []string) error {
	return m.runRevoke(ctx, args, "admin-key revoke", "admin key's name", "admin key",
		func(name string) error { return allot.ValidateID("name", name) },
		func(ctx context.Context, s allot.Store, name string) error { return s.RevokeAdminKey(ctx, name) })
}

// adminKeyCreate is admin-key create with --expires.
func (m *Main) adminKeyCreate(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("admin-key create", &c)
	name := fs.String("name", "", "name of the key; recorded as the actor of every change it makes (required)")
	sp := fs.String("sp", "", "make an sp key acting for this service provider project (default: an admin key)")
	expires := expiresFlag(fs)
	asJSON := fs.Bool("json", false, `print {"name":...,"key":...,"role":...}`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	until, err := parseExpires(*expires, now)
	if err != nil {
		return err
	}
	k, key := app.AdminKeyRecord(*name, *sp, now, until)
	if err := k.Validate(); err != nil {
		return usageError{err}
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.CreateAdminKey(ctx, k); err != nil {
		return err
	}
	if *asJSON {
		out := map[string]string{"name": k.ID, "key": key, "role": string(k.Role)}
		if !until.IsZero() {
			out["expires_at"] = until.Format(time.RFC3339)
		}
		return json.NewEncoder(m.Stdout).Encode(out)
	}
	fmt.Fprintf(m.Stdout, "admin key %s (%s): %s\n", k.ID, k.Role, key)
	if !until.IsZero() {
		fmt.Fprintf(m.Stdout, "expires at: %s\n", until.Format(time.RFC3339))
	}
	fmt.Fprintln(m.Stdout, "(send it as 'Authorization: Bearer KEY'; it is shown only now)")
	return nil
}

// printList prints list as a JSON array, empty rather than null.
func printList[T any](m *Main, list, empty []T) error {
	if list == nil {
		list = empty
	}
	enc := json.NewEncoder(m.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(list)
}

// listedTime shows an optional time; "-" for none.
func listedTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
