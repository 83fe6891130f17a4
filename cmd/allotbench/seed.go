package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/internal/app"
	progressbar "github.com/allot-dev/allot/internal/progress"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/secret"
)

// layout is the shape of the seeded data. Project 0 is the big tenant,
// project 1 the small one; the rest of the resources are spread evenly over
// the other projects. Every resource matches the benchmark filter (all three
// resource sources), so a tenant's match count is its resource count.
type layout struct {
	Projects  int // total projects, big and small included
	Resources int // total resources
	Big       int // resources of the big tenant
	Small     int // resources of the small tenant
}

// seedVersion changes whenever the generated rows change, so a file seeded
// by an older version of this command is not silently reused.
const seedVersion = 1

func (l layout) validate() error {
	switch {
	case l.Projects < 3:
		return errors.New("--projects must be at least 3 (big, small and one more)")
	case l.Big < 1 || l.Small < 1:
		return errors.New("--big and --small must be positive")
	case l.Resources < l.Big+l.Small+(l.Projects-2):
		return fmt.Errorf("--resources %d is too few: big + small + one per other project needs %d", l.Resources, l.Big+l.Small+l.Projects-2)
	case l.Projects > 999_999:
		return errors.New("--projects must be below 1,000,000")
	}
	return nil
}

// projectID names project i; ids sort in index order.
func projectID(i int) string { return fmt.Sprintf("bench-%06d", i) }

// accessKey is project i's access key: 20 characters of A-Z0-9 like the
// CLI's, but derived from i so a reused file's keys can be found again.
func accessKey(i int) string { return fmt.Sprintf("BENCHAK%013d", i) }

// count returns how many resources project i holds.
func (l layout) count(i int) int {
	switch i {
	case 0:
		return l.Big
	case 1:
		return l.Small
	}
	rest, others := l.Resources-l.Big-l.Small, l.Projects-2
	n := rest / others
	if i-2 < rest%others {
		n++
	}
	return n
}

// marker is the name given to the last project, recording what was seeded.
func (l layout) marker() string {
	return fmt.Sprintf("allotbench seed v%d: %d projects, %d resources, big %d, small %d",
		seedVersion, l.Projects, l.Resources, l.Big, l.Small)
}

var kinds = []struct {
	business allot.BusinessType
	typ      string
	unit     allot.Unit
}{
	{"VIDEO_2D", "VIDEO_2D_MIN", "MIN"},
	{"VOICE_CLONE", "VOICE_CLONE_NUM", "NUM"},
	{"LIVE_2D", "Interaction.basic.channel", "CHANNEL"},
	{"SYNTHETICS_SOUND", "TTS_CHARS", "TEN_THOUSAND_WORDS"},
	{"MODELING_2D", "MODELING_2D_NUM", "NUM"},
	{"FLEXUS_2D", "FLEXUS_2D_PACKAGE", "MIN"},
}

var seedEpoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// resource returns the j-th resource of project pid, deterministically.
func resource(pid string, j int) allot.Resource {
	k := kinds[j%len(kinds)]
	r := allot.Resource{
		ProjectID:    pid,
		ResourceID:   fmt.Sprintf("res-%08d", j),
		ResourceType: k.typ,
		BusinessType: k.business,
		ChargingMode: allot.ChargingModes[j%len(allot.ChargingModes)],
		Source:       allot.ResourceSources[j%len(allot.ResourceSources)],
		Unit:         k.unit,
		Amount:       allot.Quantity(int64(100+j%900) * allot.QuantityScale),
		Usage:        allot.Quantity(int64(j%100) * allot.QuantityScale),
		ExpireTime:   seedEpoch.Add(time.Duration(j) * time.Hour),
	}
	if j%3 == 0 {
		r.OrderID = fmt.Sprintf("order-%08d", j)
	}
	if j%50 == 7 {
		r.Status = allot.StatusFrozen
	}
	return r
}

// seedResult is what the benchmark needs from a seeded file.
type seedResult struct {
	Path      string
	MasterKey []byte // base64-decoded; the servers get it in ALLOT_MASTER_KEY
	Secrets   []string
	Reused    bool
	Took      time.Duration // seeding or verifying, whichever happened
	RowsTook  time.Duration // resources only (zero when reused)
	CredsTook time.Duration
}

// seed makes sure path holds the layout, seeding a fresh file if it does not
// exist, and returns every project's secret key. Seeding writes a side file
// and renames it into place when complete, so an interrupted run leaves
// nothing that looks reusable.
func seed(ctx context.Context, path string, l layout, batch int, progress io.Writer, log io.Writer) (*seedResult, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	pg := isPostgres(path)
	keyPath := path + ".key"
	if pg {
		keyPath = pgKeyPath(path)
	} else if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if seeded(ctx, path, pg) {
		start := time.Now()
		res, err := reuse(ctx, path, keyPath, l)
		if err != nil {
			return nil, fmt.Errorf("%s exists but cannot be reused (%w); remove it (and %s) to seed afresh", redact(path), err, keyPath)
		}
		res.Took = time.Since(start)
		fmt.Fprintf(log, "reusing %s (%s; checked in %v)\n", redact(path), l.marker(), res.Took.Round(time.Millisecond))
		return res, nil
	}

	// SQLite: seed a side file and rename it into place when complete.
	// PostgreSQL: seed the database named by the DSN, which must be empty;
	// an interrupted seeding fails reuse's checks (every credential, the
	// last project's resources) instead of passing for a complete one.
	partial := path + ".partial"
	keyFile := partial + ".key"
	if pg {
		partial, keyFile = path, keyPath
	} else {
		for _, suffix := range []string{"", "-wal", "-shm", ".key"} {
			os.Remove(partial + suffix)
		}
	}
	key, _, err := secret.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, partial)
	if err != nil {
		return nil, err
	}
	defer func() {
		if store != nil {
			store.Close()
		}
	}()

	res := &seedResult{Path: path, MasterKey: key}
	start := time.Now()
	now := start.UTC().Truncate(time.Second)

	// Projects first, in one batch; the last one carries the marker.
	projects := make([]allot.Project, l.Projects)
	for i := range projects {
		projects[i] = allot.Project{ID: projectID(i), Name: fmt.Sprintf("Bench tenant %d", i), RegionID: "cn-north-4", CreatedAt: now}
	}
	projects[l.Projects-1].Name = l.marker()
	if err := store.Import(ctx, allot.ImportBatch{Projects: projects}); err != nil {
		return nil, fmt.Errorf("importing projects: %w", err)
	}

	bar := progressbar.New(progress, "resources", int64(l.Resources))
	rows := make([]allot.Resource, 0, batch)
	done := 0
	flush := func() error {
		if len(rows) == 0 {
			return nil
		}
		if err := store.Import(ctx, allot.ImportBatch{Resources: rows}); err != nil {
			return fmt.Errorf("importing resources: %w", err)
		}
		done += len(rows)
		bar.Set(int64(done))
		rows = rows[:0]
		return ctx.Err()
	}
	for i := 0; i < l.Projects; i++ {
		pid := projectID(i)
		for j, n := 0, l.count(i); j < n; j++ {
			rows = append(rows, resource(pid, j))
			if len(rows) == batch {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	bar.Finish()
	res.RowsTook = time.Since(start)

	// One credential per project, the way 'allot credential create' makes
	// them: a random secret key sealed under the master key, bound to the
	// access key. The store has no batch call for credentials, so each is
	// its own transaction.
	credStart := time.Now()
	bar = progressbar.New(progress, "credentials", int64(l.Projects))
	res.Secrets = make([]string, l.Projects)
	for i := 0; i < l.Projects; i++ {
		ak, sk := accessKey(i), randomSecret()
		cred, err := app.SealCredential(keyring, projectID(i), ak, sk, now)
		if err != nil {
			return nil, err
		}
		if err := store.CreateCredential(ctx, cred); err != nil {
			return nil, fmt.Errorf("creating credential of %s: %w", projectID(i), err)
		}
		res.Secrets[i] = sk
		if i%256 == 0 {
			bar.Set(int64(i))
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	bar.Set(int64(l.Projects))
	bar.Finish()
	res.CredsTook = time.Since(credStart)

	err = store.Close()
	store = nil
	if err != nil {
		return nil, err
	}
	res.Took = time.Since(start)
	// Closing the last connection checkpoints the WAL into the main file;
	// move whatever is left along with it.
	for _, suffix := range []string{"-wal", "-shm", ".key", ""} {
		if pg {
			break
		}
		if _, err := os.Stat(partial + suffix); err == nil {
			if err := os.Rename(partial+suffix, path+suffix); err != nil {
				return nil, err
			}
		}
	}
	fmt.Fprintf(log, "seeded %s: %d projects, %d resources in %v (%.0f rows/s), %d credentials in %v\n",
		redact(path), l.Projects, l.Resources, res.RowsTook.Round(time.Millisecond),
		float64(l.Resources)/res.RowsTook.Seconds(), l.Projects, res.CredsTook.Round(time.Millisecond))
	return res, nil
}

// reuse checks that path was seeded with layout l and recovers the secret
// keys from the store with the master key kept next to it.
func reuse(ctx context.Context, path, keyPath string, l layout) (*seedResult, error) {
	key, created, err := secret.LoadOrCreateKeyFile(keyPath)
	if created {
		os.Remove(keyPath)
		return nil, errors.New("its master key file is missing")
	}
	if err != nil {
		return nil, err
	}
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, path)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	last, err := store.FindProject(ctx, projectID(l.Projects-1))
	if err != nil {
		return nil, fmt.Errorf("project %s: %w", projectID(l.Projects-1), err)
	}
	if last.Name != l.marker() {
		return nil, fmt.Errorf("it was seeded as %q, want %q", last.Name, l.marker())
	}
	if _, err := store.FindProject(ctx, projectID(l.Projects)); err == nil {
		return nil, errors.New("it has more projects than the layout")
	}
	res := &seedResult{Path: path, MasterKey: key, Reused: true, Secrets: make([]string, l.Projects)}
	for i := range res.Secrets {
		c, err := store.FindCredential(ctx, accessKey(i))
		if err != nil {
			return nil, fmt.Errorf("credential of %s: %w", projectID(i), err)
		}
		sk, err := keyring.Open(c.SecretCiphertext, []byte(c.AccessKey))
		if err != nil {
			return nil, err
		}
		res.Secrets[i] = string(sk)
	}
	// The resources of the last project are written by the last batch;
	// batches are all or nothing and credentials come after them.
	d, err := store.TenantChanges(ctx, projectID(l.Projects-1), 0)
	if err != nil {
		return nil, err
	}
	if len(d.Resources) != l.count(l.Projects-1) {
		return nil, fmt.Errorf("last project has %d resources, want %d", len(d.Resources), l.count(l.Projects-1))
	}
	return res, nil
}

// randomSecret returns 40 characters of A-Z a-z 0-9, like the CLI's secret keys.
func randomSecret() string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 40)
	buf := make([]byte, 1)
	for i := 0; i < len(out); {
		rand.Read(buf)
		if int(buf[0]) >= 256-256%len(alnum) {
			continue
		}
		out[i] = alnum[int(buf[0])%len(alnum)]
		i++
	}
	return string(out)
}

// isPostgres tells a PostgreSQL DSN from a SQLite path, as allot's --db does.
func isPostgres(db string) bool { return app.IsPostgres(db) }

// openStore opens the store a --db value names, as allot's --db does.
func openStore(ctx context.Context, db string) (allot.Store, error) {
	return app.OpenStore(ctx, db, nil)
}

// pgKeyPath is where the master key of a PostgreSQL seeding is kept: the
// database cannot hold it, so a file in the temp dir named after the DSN.
func pgKeyPath(dsn string) string {
	sum := sha256.Sum256([]byte(dsn))
	return filepath.Join(os.TempDir(), "allotbench-pg-"+hex.EncodeToString(sum[:6])+".key")
}

// seeded reports whether db already holds a seeding (complete or not; reuse
// checks which).
func seeded(ctx context.Context, db string, pg bool) bool {
	if !pg {
		_, err := os.Stat(db)
		return err == nil
	}
	s, err := postgres.Open(ctx, db)
	if err != nil {
		return false
	}
	defer s.Close()
	_, err = s.FindProject(ctx, projectID(0))
	return err == nil
}

// redact hides a password in a DSN.
func redact(db string) string { return app.RedactDSN(db) }
