package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/secret"
)

func (m *Main) createProject(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("project create", &c)
	var p allot.Project
	fs.StringVar(&p.ID, "id", "", "project id (required)")
	fs.StringVar(&p.Name, "name", "", "display name (required)")
	fs.StringVar(&p.RegionID, "region", "", "region id, e.g. cn-north-4 (required)")
	fs.StringVar(&p.SPProjectID, "sp", "", "project id of this project's service provider")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	p.CreatedAt = time.Now().UTC().Truncate(time.Second)
	if err := p.Validate(); err != nil {
		return usageError{err}
	}
	if err := store.CreateProject(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "created project %s\n", p.ID)
	return nil
}

// newCredential issues an access key pair for projectID that expires at
// expires (zero: never); the secret is returned once, here.
func newCredential(ctx context.Context, store allot.Store, keyring *secret.Keyring, projectID string, expires time.Time) (ak, sk string, err error) {
	c, sk, err := allot.IssueCredential(ctx, store, keyring, projectID, time.Now(), expires)
	return c.AccessKey, sk, err
}

// newToken issues a token for projectID valid for ttl; only its hash is stored.
func newToken(ctx context.Context, store allot.Store, projectID string, ttl time.Duration) (string, time.Time, error) {
	return app.NewToken(ctx, store, projectID, time.Now(), ttl)
}

func (m *Main) createCredential(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("credential create", &c)
	project := fs.String("project", "", "project id (required)")
	expires := expiresFlag(fs)
	asJSON := fs.Bool("json", false, `print {"access_key":...,"secret_key":...}`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if err := allot.ValidateID("--project", *project); err != nil {
		return usageError{err}
	}
	until, err := parseExpires(*expires, time.Now())
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	keyring, err := m.keyring(ctx, &c, store)
	if err != nil {
		return err
	}
	ak, sk, err := newCredential(ctx, store, keyring, *project, until)
	if err != nil {
		return err
	}
	if *asJSON {
		out := map[string]string{"access_key": ak, "secret_key": sk}
		if !until.IsZero() {
			out["expires_at"] = until.Format(time.RFC3339)
		}
		return json.NewEncoder(m.Stdout).Encode(out)
	}
	fmt.Fprintf(m.Stdout, "access key: %s\nsecret key: %s\n", ak, sk)
	if !until.IsZero() {
		fmt.Fprintf(m.Stdout, "expires at: %s\n", until.Format(time.RFC3339))
	}
	fmt.Fprintln(m.Stdout, "(the secret key is shown only now)")
	return nil
}

func (m *Main) createToken(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("token create", &c)
	project := fs.String("project", "", "project id (required)")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the token is valid")
	asJSON := fs.Bool("json", false, `print {"token":...,"expires_at":...}`)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if err := allot.ValidateID("--project", *project); err != nil {
		return usageError{err}
	}
	if *ttl <= 0 || *ttl > 366*24*time.Hour {
		return usageError{fmt.Errorf("--ttl %v: must be positive and at most 366 days", *ttl)}
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	token, expires, err := newToken(ctx, store, *project, *ttl)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(map[string]string{"token": token, "expires_at": expires.Format(time.RFC3339)})
	}
	fmt.Fprintf(m.Stdout, "token: %s\nexpires at: %s\n", token, expires.Format(time.RFC3339))
	return nil
}

func (m *Main) migrate(ctx context.Context, args []string) error {
	var c common
	fs := m.flags("migrate", &c)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	store, err := openStore(ctx, c.db)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "migrations applied to %s\n", redactDSN(c.db))
	return store.Close()
}

// redactDSN hides a password in a postgres:// DSN for logs.
func redactDSN(dsn string) string { return app.RedactDSN(dsn) }
