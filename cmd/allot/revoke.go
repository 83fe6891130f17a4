package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/allot-dev/allot"
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

func (m *Main) credentialList(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("credential list", &c)
	project := fs.String("project", "", "only this project's access keys (default: every project's)")
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
	list, err := store.ListCredentials(ctx, *project)
	if err != nil {
		return err
	}
	if *asJSON {
		return printList(m, list, []allot.CredentialInfo{})
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACCESS KEY\tPROJECT\tCREATED\tEXPIRES\tREVOKED")
	for _, k := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.AccessKey, k.ProjectID, listedTime(k.CreatedAt), listedTime(k.ExpiresAt), listedTime(k.RevokedAt))
	}
	return w.Flush()
}

func (m *Main) credentialRevoke(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("credential revoke", &c)
	ak, err := m.oneArg(fs, args, "access key")
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.RevokeCredential(ctx, ak); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "revoked access key %s\n", ak)
	return nil
}

func (m *Main) tokenList(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("token list", &c)
	project := fs.String("project", "", "only this project's tokens (default: every project's)")
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
	list, err := store.ListTokens(ctx, *project)
	if err != nil {
		return err
	}
	if *asJSON {
		return printList(m, list, []allot.TokenInfo{})
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPROJECT\tCREATED\tEXPIRES\tREVOKED")
	for _, t := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, t.ProjectID, listedTime(t.CreatedAt), listedTime(t.ExpiresAt), listedTime(t.RevokedAt))
	}
	return w.Flush()
}

func (m *Main) tokenRevoke(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("token revoke", &c)
	id, err := m.oneArg(fs, args, "token id (as token list shows it)")
	if err != nil {
		return err
	}
	if err := allot.ValidateTokenID("token id", id); err != nil {
		return usageError{err}
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.RevokeToken(ctx, id); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "revoked token %s\n", id)
	return nil
}

func (m *Main) adminKeyList(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("admin-key list", &c)
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	ls := store
	list, err := ls.ListAdminKeys(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printList(m, list, []allot.AdminKeyInfo{})
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tROLE\tSP\tCREATED\tEXPIRES\tREVOKED")
	for _, k := range list {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, orDash(k.SPProjectID), listedTime(k.CreatedAt), listedTime(k.ExpiresAt), listedTime(k.RevokedAt))
	}
	return w.Flush()
}

func (m *Main) adminKeyRevoke(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("admin-key revoke", &c)
	name, err := m.oneArg(fs, args, "admin key's name")
	if err != nil {
		return err
	}
	if err := allot.ValidateID("name", name); err != nil {
		return usageError{err}
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	ls := store
	if err := ls.RevokeAdminKey(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "revoked admin key %s\n", name)
	return nil
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
	raw := make([]byte, 32)
	rand.Read(raw)
	key := "allot-admin-" + base64.RawURLEncoding.EncodeToString(raw)
	hash := sha256.Sum256([]byte(key))
	k := allot.AdminKey{ID: *name, Hash: hash[:], Role: roleOf(*sp), SPProjectID: *sp, CreatedAt: now, ExpiresAt: until}
	if err := k.Validate(); err != nil {
		return usageError{err}
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	ls := store
	if err := ls.CreateAdminKey(ctx, k); err != nil {
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
