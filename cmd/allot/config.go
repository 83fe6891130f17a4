package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"allot"
	"allot/postgres"
	"allot/secret"
	"allot/sqlite"
)

// common holds the flags every command shares.
type common struct {
	db            string
	masterKeyFile string
}

func (m *Main) flags(name string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&c.db, "db", envOr(m.Getenv, "ALLOT_DB", "allot.db"), "database: a SQLite path, sqlite:PATH or postgres://... (env ALLOT_DB)")
	fs.StringVar(&c.masterKeyFile, "master-key-file", envOr(m.Getenv, "ALLOT_MASTER_KEY_FILE", "allot.key"),
		"file holding the master key that encrypts secret keys; created if missing (env ALLOT_MASTER_KEY_FILE; env ALLOT_MASTER_KEY, base64, takes precedence)")
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// openStore opens the store a DSN names and runs its migrations.
func openStore(ctx context.Context, dsn string) (allot.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.Contains(dsn, "://"):
		return nil, usageError{fmt.Errorf("--db %q: unsupported scheme; use a SQLite path, sqlite:PATH or postgres://", dsn)}
	}
	return sqlite.Open(ctx, dsn)
}

// keyring loads the master key: ALLOT_MASTER_KEY if set, else the key file,
// created with a fresh key on first use. ALLOT_MASTER_KEY_OLD holds
// comma-separated keys from before a rotation, still accepted for reading.
func (m *Main) keyring(c *common) (*secret.Keyring, error) {
	var current []byte
	if v := m.Getenv("ALLOT_MASTER_KEY"); v != "" {
		k, err := secret.ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("ALLOT_MASTER_KEY: %w", err)
		}
		current = k
	} else {
		k, created, err := secret.LoadOrCreateKeyFile(c.masterKeyFile)
		if err != nil {
			return nil, err
		}
		if created {
			fmt.Fprintf(m.Stderr, "allot: created master key file %s (keep it safe and out of backups of the database)\n", c.masterKeyFile)
		}
		current = k
	}
	var old [][]byte
	if v := m.Getenv("ALLOT_MASTER_KEY_OLD"); v != "" {
		for i, s := range strings.Split(v, ",") {
			k, err := secret.ParseKey(s)
			if err != nil {
				return nil, fmt.Errorf("ALLOT_MASTER_KEY_OLD[%d]: %w", i, err)
			}
			old = append(old, k)
		}
	}
	return secret.NewKeyring(current, old...)
}

func openPostgres(ctx context.Context, dsn string) (allot.Store, error) {
	return postgres.Open(ctx, dsn)
}
