// Package allottest runs allot inside a Go test: a real allot, on a SQLite
// file in the test's temporary directory, that the official Huawei Cloud Go
// SDK talks to over loopback, with a clock the test moves and a reset to
// the seed state.
//
//	func TestQuota(t *testing.T) {
//		srv := allottest.Run(t)
//		if _, err := srv.Admin().Purchase(allot.PackageRequest{ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D",
//			ChargingMode: "PERIODIC", Unit: "MIN", Amount: allottest.Units(100)}); err != nil {
//			t.Fatal(err)
//		}
//		resp, err := srv.Client().ListTenantResources(&model.ListTenantResourcesRequest{})
//		...
//	}
//
// Every Run is its own allot: tests that call it in parallel share nothing.
// Everything it writes is under t.TempDir(), and when the test ends
// (t.Cleanup) its listeners, connections and goroutines are gone.
//
// Without WithSeed, a server holds one empty project with the fixed
// credentials of this package's constants (default.jsonl), the same ones
// docs/testing.md uses for `allot serve --test-mode` and the other SDKs.
package allottest

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/secret"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"
)

// The default seed's project and credentials (default.jsonl).
const (
	ProjectID = "allottest-project"
	Region    = "cn-north-4"
	AccessKey = "ALLOTTESTACCESSKEY01"
	SecretKey = "allottestSecretKey0000000000000000000001"
	Token     = "allot-test-token-0000000000000001"
	AdminKey  = "allot-test-admin-key-000000000000001"
)

// UserAgent is the user agent of the SDK clients Client returns.
const UserAgent = "allottest"

//go:embed default.jsonl
var defaultSeed []byte

// DefaultSeed returns the seed a server starts from without WithSeed: the
// JSON Lines `allot serve --seed` reads.
func DefaultSeed() []byte { return bytes.Clone(defaultSeed) }

// Option configures Run.
type Option func(*options)

type options struct {
	seed     string
	seedData []byte
	start    time.Time
}

// WithSeed starts the server from a seed file or directory of *.jsonl
// files (docs/testing.md) instead of the default seed. The server's
// ProjectID, AK, SK, Token and AdminKey are the seed's first credential,
// token and admin key; without an admin key in the seed, the default one
// is added.
func WithSeed(path string) Option { return func(o *options) { o.seed = path } }

// WithSeedData is WithSeed for JSON Lines held in memory.
func WithSeedData(jsonl []byte) Option { return func(o *options) { o.seedData = jsonl } }

// WithClock starts the server's clock at start, frozen, so a test reads the
// same time until it moves the clock (Clock().Advance, Freeze(false)).
func WithClock(start time.Time) Option { return func(o *options) { o.start = start } }

// Server is a running allot. Its fields are fixed for its life: a Reset
// brings the same credentials back.
type Server struct {
	// Endpoint is the tenant API's base URL, which the SDK's endpoint and
	// IAM endpoint point at; AdminEndpoint the management API's.
	Endpoint, AdminEndpoint string
	ProjectID, Region       string
	// AK and SK sign SDK requests; Token is an X-Auth-Token of ProjectID;
	// AdminKey authenticates management calls (Authorization: Bearer).
	AK, SK, Token, AdminKey string

	tb         testing.TB
	app        *app.App
	clock      *allot.ManualClock
	mu         sync.Mutex
	transports []*http.Transport
}

// Run starts an allot for the test; it stops when the test ends.
func Run(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s, err := start(tb, tb.TempDir(), o)
	if err != nil {
		tb.Fatalf("allottest: %v", err)
	}
	tb.Cleanup(s.close)
	return s
}

// start starts a server whose store lives in dir; close stops it.
func start(tb testing.TB, dir string, o options) (*Server, error) {
	ctx := context.Background()
	clock := allot.NewManualClock(time.Now())
	if !o.start.IsZero() {
		clock = allot.NewManualClock(o.start)
		clock.Freeze(true)
		clock.Set(o.start) // the moment before the freeze ran on
	}
	seed, err := loadSeed(o, clock.Now())
	if err != nil {
		return nil, err
	}
	cred, token, admin := seed.First()
	if admin == nil {
		admin = &api.SeedAdminKey{Name: "allottest-admin", Key: AdminKey, Role: allot.RoleAdmin}
		seed.Items = append(seed.Items, api.ImportItem{AdminKey: admin})
	}
	store, err := app.OpenStore(ctx, filepath.Join(dir, "allot.db"), clock)
	if err != nil {
		return nil, err
	}
	// The master key lives in memory only: nothing is written outside dir.
	master, _ := secret.ParseKey(secret.NewKey())
	keyring, err := secret.NewKeyring(master)
	if err != nil {
		store.Close()
		return nil, err
	}
	a, err := app.Open(ctx, app.Config{
		Store: store, Keyring: keyring, Clock: clock,
		Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Seed: seed, TestMode: true,
	})
	if err != nil {
		store.Close()
		return nil, err
	}
	s := &Server{
		Endpoint: a.TenantURL(), AdminEndpoint: a.AdminURL(), Region: Region, AdminKey: admin.Key,
		tb: tb, app: a, clock: clock,
	}
	if cred != nil {
		s.ProjectID, s.AK, s.SK = cred.ProjectID, cred.AccessKey, cred.SecretKey
		if p, ok := seed.Project(cred.ProjectID); ok {
			s.Region = p.RegionID
		}
	}
	if token != nil {
		s.Token = token.Token
		if s.ProjectID == "" {
			s.ProjectID = token.ProjectID
		}
	}
	return s, nil
}

func loadSeed(o options, now time.Time) (*app.Seed, error) {
	switch {
	case o.seed != "":
		return app.LoadSeed(o.seed, now)
	case o.seedData != nil:
		seed := &app.Seed{}
		return seed, seed.Parse(bytes.NewReader(o.seedData), "WithSeedData", now)
	}
	seed := &app.Seed{}
	return seed, seed.Parse(bytes.NewReader(defaultSeed), "default.jsonl", now)
}

// close stops both listeners, waits for requests in flight, drops the SDK
// clients' idle connections (whose reading goroutines would otherwise
// outlive the test) and closes the store.
func (s *Server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.app.Close(ctx); err != nil {
		s.tb.Errorf("allottest: stopping the server: %v", err)
	}
	s.mu.Lock()
	for _, t := range s.transports {
		t.CloseIdleConnections()
	}
	s.mu.Unlock()
	if err := s.app.Store.Close(); err != nil {
		s.tb.Errorf("allottest: closing the store: %v", err)
	}
}

// Client returns an official SDK client pointed at the server, signing
// with AK/SK for ProjectID; its IAM endpoint is the server too, so the SDK
// never reaches the real cloud. Each call returns a new client.
func (s *Server) Client() *metastudio.MetaStudioClient {
	s.tb.Helper()
	return s.ClientFor(s.AK, s.SK, s.ProjectID)
}

// ClientFor is Client for other credentials (of a seed with several).
func (s *Server) ClientFor(ak, sk, projectID string) *metastudio.MetaStudioClient {
	s.tb.Helper()
	transport := &http.Transport{MaxIdleConnsPerHost: 8}
	s.mu.Lock()
	s.transports = append(s.transports, transport)
	s.mu.Unlock()
	c, err := newClient(s.Endpoint, ak, sk, projectID, transport)
	if err != nil {
		s.tb.Fatalf("allottest: %v", err)
	}
	return c
}

// newClient builds an official SDK client for endpoint over transport.
func newClient(endpoint, ak, sk, projectID string, transport *http.Transport) (*metastudio.MetaStudioClient, error) {
	creds, err := basic.NewCredentialsBuilder().WithAk(ak).WithSk(sk).WithProjectId(projectID).
		WithIamEndpointOverride(endpoint).SafeBuild()
	if err != nil {
		return nil, fmt.Errorf("SDK credentials: %w", err)
	}
	// A user agent of our own: without one the SDK makes its default,
	// which writes an application id into ~/.huaweicloud.
	hc, err := metastudio.MetaStudioClientBuilder().
		WithEndpoints([]string{endpoint}).
		WithCredential(creds).
		WithHttpConfig(config.DefaultHttpConfig().WithTimeout(30 * time.Second).WithHttpTransport(transport).WithUserAgent(UserAgent)).
		SafeBuild()
	if err != nil {
		return nil, fmt.Errorf("SDK client: %w", err)
	}
	return metastudio.NewMetaStudioClient(hc), nil
}

// Clock is the server's clock: expiry of packages, tokens and keys and the
// time of every ledger entry follow it. Signatures are checked against the
// real time whatever it says, as every SDK signs with the real time.
func (s *Server) Clock() *allot.ManualClock { return s.clock }

// Reset puts the server back to its seed state: every write since the start
// is gone, the recorded requests and fault rules too. The clock stays.
func (s *Server) Reset() {
	s.tb.Helper()
	if err := s.app.Reset(context.Background()); err != nil {
		s.tb.Fatalf("allottest: reset: %v", err)
	}
}

// Requests returns the requests the server saw (both planes), oldest first,
// as GET /_allot/requests shows them.
func (s *Server) Requests() []api.RecordedRequest { return s.app.TestMode.Requests() }

// Faults replaces the fault rules (POST /_allot/faults); none clears them.
func (s *Server) Faults(rules ...api.FaultRule) {
	s.tb.Helper()
	if err := s.app.TestMode.SetFaults(rules); err != nil {
		s.tb.Fatalf("allottest: faults: %v", err)
	}
}

// Store is the server's store, for assertions on what it holds.
func (s *Server) Store() allot.Store { return s.app.Store }
