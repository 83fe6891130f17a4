package app

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/secret"
)

// Seed is the data a test-mode allot starts from and a reset returns to:
// the lines of JSON Lines seed files (api.DecodeSeedLine), in order.
type Seed struct {
	Items []api.ImportItem
}

// LoadSeed reads a seed file, or every *.jsonl file of a directory in name
// order. now is the creation time of the seed's projects and the start of a
// seed token's default lifetime.
func LoadSeed(path string, now time.Time) (*Seed, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--seed: %w", err)
	}
	files := []string{path}
	if fi.IsDir() {
		if files, err = filepath.Glob(filepath.Join(path, "*.jsonl")); err != nil {
			return nil, fmt.Errorf("--seed: %w", err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("--seed %s: the directory holds no *.jsonl file", path)
		}
		slices.Sort(files)
	}
	seed := &Seed{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--seed: %w", err)
		}
		err = seed.Parse(f, name, now)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return seed, nil
}

// Parse adds the lines read from r (named name in errors) to the seed.
// Blank lines and lines starting with # are skipped. An item given twice
// is refused, naming both lines.
func (sd *Seed) Parse(r io.Reader, name string, now time.Time) error {
	seen := map[string]bool{}
	for _, it := range sd.Items {
		seen[it.Key()] = true
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		it, err := api.DecodeSeedLine(line, now)
		if err != nil {
			return fmt.Errorf("seed %s:%d: %s", name, n, allot.ErrorMessageOf(err))
		}
		if seen[it.Key()] {
			return fmt.Errorf("seed %s:%d: %s is given twice", name, n, it.Key())
		}
		seen[it.Key()] = true
		sd.Items = append(sd.Items, it)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("seed %s: %w", name, err)
	}
	return nil
}

// Apply writes what of the seed the store does not hold yet, so applying
// it twice changes nothing: an item whose id exists is left as it is. The
// projects, resources and assignments missing go in one import (all or
// nothing); then the credentials, tokens and admin keys.
func (sd *Seed) Apply(ctx context.Context, store allot.Store, keyring *secret.Keyring, now time.Time) error {
	if sd == nil {
		return nil
	}
	existing, err := sd.existing(ctx, store)
	if err != nil {
		return err
	}
	var batch allot.ImportBatch
	for _, it := range sd.Items {
		if it.Project != nil || it.Resource != nil || it.Assignment != nil {
			if !existing[it.Key()] {
				it.AddTo(&batch)
			}
		}
	}
	if len(batch.Projects)+len(batch.Resources)+len(batch.Assignments) > 0 {
		if err := store.Import(ctx, batch); err != nil {
			return fmt.Errorf("applying the seed: %w", err)
		}
	}
	now = now.UTC().Truncate(time.Second)
	for _, it := range sd.Items {
		var err error
		switch {
		case it.Credential != nil:
			c := it.Credential
			var cred allot.Credential
			if cred, err = allot.NewCredential(keyring, c.ProjectID, c.AccessKey, c.SecretKey, now, c.ExpiresAt); err == nil {
				err = store.CreateCredential(ctx, cred)
			}
		case it.Token != nil:
			t := it.Token
			err = store.CreateToken(ctx, allot.Token{Hash: api.TokenHash(t.Token), ProjectID: t.ProjectID, ExpiresAt: t.ExpiresAt, CreatedAt: now})
		case it.AdminKey != nil:
			k := it.AdminKey
			err = store.CreateAdminKey(ctx, allot.AdminKey{ID: k.Name, Hash: api.TokenHash(k.Key), Role: k.Role, SPProjectID: k.SPProjectID, CreatedAt: now, ExpiresAt: k.ExpiresAt})
		default:
			continue
		}
		// ECONFLICT: it exists (from an earlier start); the seed is applied.
		if err != nil && allot.ErrorCodeOf(err) != allot.ECONFLICT {
			return fmt.Errorf("applying the seed: %s: %w", it.Key(), err)
		}
	}
	return nil
}

// existing returns the keys (ImportItem.Key) of the seed's projects,
// resources and assignments that the store holds.
func (sd *Seed) existing(ctx context.Context, store allot.Store) (map[string]bool, error) {
	have := map[string]bool{}
	for _, it := range sd.Items {
		if it.Project == nil {
			continue
		}
		d, err := store.TenantChanges(ctx, it.Project.ID, 0)
		if allot.ErrorCodeOf(err) == allot.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("applying the seed: %w", err)
		}
		have[it.Key()] = true
		for _, r := range d.Resources {
			have[api.ImportItem{Resource: &r}.Key()] = true
		}
		for _, a := range d.Assignments {
			have[api.ImportItem{Assignment: &a}.Key()] = true
		}
	}
	return have, nil
}

// First returns the first credential, token and admin key of the seed
// (nil where it has none): the ones allottest hands out.
func (sd *Seed) First() (*api.SeedCredential, *api.SeedToken, *api.SeedAdminKey) {
	var c *api.SeedCredential
	var t *api.SeedToken
	var k *api.SeedAdminKey
	for _, it := range sd.Items {
		switch {
		case it.Credential != nil && c == nil:
			c = it.Credential
		case it.Token != nil && t == nil:
			t = it.Token
		case it.AdminKey != nil && k == nil:
			k = it.AdminKey
		}
	}
	return c, t, k
}

// Project returns the seed project named id, if any.
func (sd *Seed) Project(id string) (allot.Project, bool) {
	for _, it := range sd.Items {
		if it.Project != nil && strings.EqualFold(it.Project.ID, id) {
			return *it.Project, true
		}
	}
	return allot.Project{}, false
}
