package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/secret"
)

// common holds the flags every command shares.
type common struct {
	db            string
	masterKeyFile string
	config        string
	// ephemeral is set by serve --ephemeral: the key file is temporary too.
	ephemeral bool
}

func (m *Main) flags(name string, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&c.config, "config", "", "JSON file of settings, keyed by flag name with '_' for '-' (env ALLOT_CONFIG)")
	fs.StringVar(&c.db, "db", "allot.db", "database: a SQLite path, sqlite:PATH or postgres://... (env ALLOT_DB)")
	fs.StringVar(&c.masterKeyFile, "master-key-file", "allot.key",
		"file holding the master key that encrypts secret keys; created if missing (env ALLOT_MASTER_KEY_FILE; env ALLOT_MASTER_KEY, base64, takes precedence)")
	return fs
}

// parse sets fs's flags from, in rising precedence: their defaults, the
// config file, ALLOT_* environment variables, and the command line. It
// refuses positional arguments.
func (m *Main) parse(fs *flag.FlagSet, args []string) error {
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

// parseArgs is parse for commands that take positional arguments.
func (m *Main) parseArgs(fs *flag.FlagSet, args []string) error {
	// A first pass finds --config; the layers below the command line are
	// then applied and the command line parsed again on top of them.
	probe := flag.NewFlagSet("", flag.ContinueOnError)
	probe.SetOutput(io.Discard)
	config := probe.String("config", m.Getenv("ALLOT_CONFIG"), "")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "config" {
			b, isBool := f.Value.(interface{ IsBoolFlag() bool })
			probe.Var(discard{isBool && b.IsBoolFlag()}, f.Name, "")
		}
	})
	probe.Parse(args) // errors are reported by the real parse below
	file, err := readConfigFile(*config)
	if err != nil {
		return err
	}
	var layerErr error
	fs.VisitAll(func(f *flag.Flag) {
		key := strings.ReplaceAll(f.Name, "-", "_")
		value, ok := file[key]
		if env := m.Getenv("ALLOT_" + strings.ToUpper(key)); env != "" {
			value, ok = env, true
		}
		if ok && f.Name != "config" && layerErr == nil {
			if err := f.Value.Set(value); err != nil {
				layerErr = usageError{fmt.Errorf("setting %s=%q: %v", key, value, err)}
			}
		}
	})
	if layerErr != nil {
		return layerErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

// discard accepts any flag value; the probe pass only looks for --config.
type discard struct{ boolean bool }

func (discard) String() string     { return "" }
func (discard) Set(string) error   { return nil }
func (d discard) IsBoolFlag() bool { return d.boolean }

// readConfigFile reads a JSON object of settings; values may be strings,
// numbers or booleans. An empty path means no file.
func readConfigFile(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("config file %s: %v", path, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64, bool:
			out[k] = fmt.Sprint(v)
		default:
			return nil, fmt.Errorf("config file %s: %s must be a string, number or boolean", path, k)
		}
	}
	return out, nil
}

// openStore opens the store a DSN names and runs its migrations.
func openStore(ctx context.Context, dsn string) (allot.Store, error) {
	s, err := app.OpenStore(ctx, dsn, nil)
	var unsupported app.ErrUnsupportedDSN
	if errors.As(err, &unsupported) {
		return nil, usageError{err}
	}
	return s, err
}

// keyring loads the master key (ALLOT_MASTER_KEY if set, else the key file)
// and refuses one that cannot open the secrets store holds; a missing key
// file is created only for a database that holds no secret.
// ALLOT_MASTER_KEY_OLD holds comma-separated keys from before a rotation,
// still accepted for reading.
func (m *Main) keyring(ctx context.Context, c *common, store allot.Store) (*secret.Keyring, error) {
	src := app.KeySource{Key: m.Getenv("ALLOT_MASTER_KEY"), File: c.masterKeyFile}
	if v := m.Getenv("ALLOT_MASTER_KEY_OLD"); v != "" {
		src.Old = strings.Split(v, ",")
	}
	k, created, err := app.LoadKeyring(ctx, store, src)
	if created && !c.ephemeral {
		fmt.Fprintf(m.Stderr, "allot: created master key file %s (keep it safe and out of backups of the database)\n", c.masterKeyFile)
	}
	return k, err
}
