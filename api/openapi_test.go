package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
	"github.com/allot-dev/allot/internal/app"
	"github.com/allot-dev/allot/secret"
	"github.com/allot-dev/allot/sign"
	"github.com/allot-dev/allot/sqlite"
)

// The OpenAPI document (openapi.json) is the contract of both planes, and
// these tests hold the server to it so the two cannot drift apart:
//
//   - TestOpenAPIRoutes: every route the server registers is documented,
//     and every documented operation is registered.
//   - TestOpenAPIEnums: the document's enumerations are the domain's.
//   - TestOpenAPIContract: real requests to real servers over SQLite, each
//     checked against the document before it is sent (a request the server
//     refuses for a bad parameter, body or missing credential must be one
//     the document refuses too) and each response after (status, headers,
//     body). Every status the document lists for an operation must be
//     provoked at least once, on the listeners the operation names.
//
// Validation is github.com/getkin/kin-openapi's openapi3filter, which checks
// OpenAPI 3.1 documents with a JSON Schema 2020-12 validator.

// Listener planes, as the document's x-listeners names them.
const (
	tenantPlane = "tenant"
	adminPlane  = "management"
)

func loadDocument(t testing.TB) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPIDocument())
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if got, want := doc.OpenAPI, "3.1.0"; got != want {
		t.Fatalf("openapi %q, want %q", got, want)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// operations returns the document's operations by "METHOD /path".
func operations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := make(map[string]*openapi3.Operation)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[method+" "+path] = op
		}
	}
	return ops
}

// listeners returns the x-listeners of op.
func listeners(t testing.TB, op *openapi3.Operation) []string {
	t.Helper()
	raw, ok := op.Extensions["x-listeners"].([]any)
	if !ok || len(raw) == 0 {
		t.Fatalf("operation %s has no x-listeners", op.OperationID)
	}
	var out []string
	for _, v := range raw {
		s, _ := v.(string)
		if s != tenantPlane && s != adminPlane {
			t.Fatalf("operation %s: x-listeners value %v is neither %q nor %q", op.OperationID, v, tenantPlane, adminPlane)
		}
		out = append(out, s)
	}
	return out
}

// TestOpenAPIRoutes compares the route patterns the api package registers
// (read from its source, as net/http cannot list a ServeMux's patterns) with
// the document's operations.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadDocument(t)
	registered := registeredRoutes(t)
	documented := make(map[string]bool)
	for key := range operations(doc) {
		documented[key] = true
	}
	for key, at := range registered {
		if !documented[key] {
			t.Errorf("%s (registered at %s) is not in openapi.json", key, at)
		}
	}
	for key := range documented {
		if _, ok := registered[key]; !ok {
			t.Errorf("openapi.json documents %s, which the server does not register", key)
		}
	}
}

// registeredRoutes finds every mux.Handle and mux.HandleFunc call in the
// package's source and evaluates its pattern: string literals, package
// constants and local variables assigned a string, joined with +. The
// catch-all "/" (404 and 405) and test mode's routes are left out.
func registeredRoutes(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var parsed []*ast.File
	consts := make(map[string]ast.Expr)
	for _, name := range files {
		// testmode.go's routes exist only under --test-mode and are
		// documented in docs/testing.md: the document every server serves
		// at /openapi.json must not offer them where they answer 404.
		if strings.HasSuffix(name, "_test.go") || name == "testmode.go" {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		for _, decl := range f.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							consts[n.Name] = vs.Values[i]
						}
					}
				}
			}
		}
	}
	routes := make(map[string]string)
	for _, f := range parsed {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			locals := make(map[string]ast.Expr)
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.AssignStmt:
					for i, lhs := range n.Lhs {
						if id, ok := lhs.(*ast.Ident); ok && i < len(n.Rhs) {
							locals[id.Name] = n.Rhs[i]
						}
					}
				case *ast.CallExpr:
					sel, ok := n.Fun.(*ast.SelectorExpr)
					if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") || len(n.Args) != 2 {
						return true
					}
					if x, ok := sel.X.(*ast.SelectorExpr); !ok || x.Sel.Name != "mux" {
						return true
					}
					at := fset.Position(n.Pos()).String()
					pattern, ok := evalString(n.Args[0], locals, consts)
					if !ok {
						t.Fatalf("%s: cannot read the route pattern; write it as string constants joined with + (or teach this test)", at)
					}
					if pattern == "/" {
						return true
					}
					method, path, ok := strings.Cut(pattern, " ")
					if !ok || method != strings.ToUpper(method) {
						t.Fatalf("%s: route %q has no method: every route but the catch-all names one", at, pattern)
					}
					routes[method+" "+path] = at
				}
				return true
			})
		}
	}
	if len(routes) == 0 {
		t.Fatal("found no routes in the package source")
	}
	return routes
}

func evalString(e ast.Expr, locals, consts map[string]ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		l, ok1 := evalString(e.X, locals, consts)
		r, ok2 := evalString(e.Y, locals, consts)
		return l + r, ok1 && ok2
	case *ast.ParenExpr:
		return evalString(e.X, locals, consts)
	case *ast.Ident:
		if v, ok := locals[e.Name]; ok {
			return evalString(v, nil, consts)
		}
		if v, ok := consts[e.Name]; ok {
			return evalString(v, nil, consts)
		}
	}
	return "", false
}

// TestOpenAPIEnums checks that the document's enumerations are exactly the
// domain's, in the same order, and that the ledger's op enumeration names
// every Op constant of the domain.
func TestOpenAPIEnums(t *testing.T) {
	doc := loadDocument(t)
	check := func(schema string, want []string) {
		t.Helper()
		ref := doc.Components.Schemas[schema]
		if ref == nil || ref.Value == nil {
			t.Fatalf("components.schemas.%s is missing", schema)
		}
		var got []string
		for _, v := range ref.Value.Enum {
			got = append(got, fmt.Sprint(v))
		}
		if !slices.Equal(got, want) {
			t.Errorf("components.schemas.%s enum\n got %q\nwant %q", schema, got, want)
		}
	}
	check("BusinessType", strs(allot.BusinessTypes))
	check("ChargingMode", strs(allot.ChargingModes))
	check("ResourceSource", strs(allot.ResourceSources))
	check("SubResourceType", strs(allot.SubResourceTypes))
	check("Unit", strs(allot.Units))
	check("ResourceStatus", []string{fmt.Sprint(int(allot.StatusNormal)), fmt.Sprint(int(allot.StatusFrozen))})
	check("LedgerOp", domainOps(t))
}

func strs[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// domainOps reads the values of allot's Op constants, in declaration order,
// from the root package's source.
func domainOps(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "ledger.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Op" {
				continue
			}
			for _, v := range vs.Values {
				s, ok := evalString(v, nil, nil)
				if !ok {
					t.Fatalf("cannot read an Op constant in ledger.go")
				}
				ops = append(ops, s)
			}
		}
	}
	if len(ops) == 0 {
		t.Fatal("found no Op constants in ledger.go")
	}
	return ops
}

// Fixture: a service provider, its customer (the tenant every tenant call
// authenticates as) and another tenant.
const (
	spProj = "sp-1"
	projA  = "proj-a"
	projB  = "proj-b"
	region = "cn-north-4"
)

var fixtureTime = time.Date(2026, 1, 10, 8, 43, 17, 0, time.UTC)

func fixture() allot.ImportBatch {
	return allot.ImportBatch{
		Projects: []allot.Project{
			{ID: spProj, Name: "Provider", RegionID: region, CreatedAt: fixtureTime},
			{ID: projA, Name: "Tenant A", RegionID: region, SPProjectID: spProj, CreatedAt: fixtureTime},
			{ID: projB, Name: "Tenant B", RegionID: region, CreatedAt: fixtureTime},
		},
		Resources: []allot.Resource{
			{ProjectID: projA, ResourceID: "r-video", OrderID: "order-1", BoundAsset: &allot.BoundAsset{AssetID: "asset-1", AssetName: "Host"},
				ExpireTime: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), ResourceType: "VIDEO_2D_MIN", BusinessType: "VIDEO_2D",
				ChargingMode: "PERIODIC", Source: allot.SourcePurchased, Unit: "MIN", Amount: 1205 * allot.QuantityScale / 10, Usage: 2025 * allot.QuantityScale / 100},
			{ProjectID: projA, ResourceID: "r-flexus", ResourceType: "FLEXUS_VOICE", BusinessType: "FLEXUS_2D", SubResourceType: "voice_clone_flexus",
				IsSubResource: true, ChargingMode: "ON_DEMAND", Source: allot.SourceAdminAllocated, Unit: "NUM", Amount: 3 * allot.QuantityScale, Status: allot.StatusFrozen},
			{ProjectID: projA, ResourceID: "assign-1", ResourceType: "spec.live", BusinessType: "LIVE_2D", ChargingMode: "ONE_TIME",
				Source: allot.SourceSPAllocated, Unit: "CHANNEL", Amount: 2 * allot.QuantityScale, Usage: allot.QuantityScale / 2},
			{ProjectID: spProj, ResourceID: "sp-pool", OrderID: "sp-order", ResourceType: "spec.live", BusinessType: "LIVE_2D", ChargingMode: "ONE_TIME",
				Source: allot.SourcePurchased, Unit: "CHANNEL", Amount: 100 * allot.QuantityScale, Usage: 2 * allot.QuantityScale},
		},
		Assignments: []allot.Assignment{
			{RecordID: "assign-1", SPProjectID: spProj, CustomerProjectID: projA, ResourceSpecCode: "spec.live", ChargingMode: "ONE_TIME",
				ResourceNum: 2 * allot.QuantityScale, ResourceUsedNum: allot.QuantityScale / 2, AllocateTime: fixtureTime, ExpireTime: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)},
		},
	}
}

// contractStore is what the servers need of a store.
type contractStore interface {
	allot.Store
	allot.LedgerStore
	allot.AdminKeys
}

// openContractStore opens the store the contract test runs on.
var openContractStore = func(t *testing.T) contractStore {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "allot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cs, ok := any(s).(contractStore)
	if !ok {
		t.Fatalf("%T has no ledger or admin keys", s)
	}
	return cs
}

// observations records what the servers report for each request: the
// listener, the route pattern that served it and the status.
type observations struct {
	mu   sync.Mutex
	list []observation
}

type observation struct {
	plane, route string
	status       int
}

func (o *observations) ObserveRequest(plane, route string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.list = append(o.list, observation{plane, route, status})
}
func (o *observations) AuthFailure(string)    {}
func (o *observations) ConsumeOutcome(string) {}
func (o *observations) DriftFound(int)        {}

func (o *observations) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.list)
}

func (o *observations) since(n int) []observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.list[n:])
}

// brokenStore fails every credential lookup and every readiness check, so
// each route shows its 500 and /readyz its 503.
type brokenStore struct{ allot.Store }

var errBroken = errors.New("store unavailable")

func (brokenStore) FindCredential(context.Context, string) (allot.Credential, error) {
	return allot.Credential{}, errBroken
}
func (brokenStore) FindToken(context.Context, []byte) (allot.Token, error) {
	return allot.Token{}, errBroken
}
func (brokenStore) FindAdminKey(context.Context, []byte) (allot.AdminKey, error) {
	return allot.AdminKey{}, errBroken
}
func (brokenStore) CreateAdminKey(context.Context, allot.AdminKey) error { return errBroken }
func (brokenStore) ListAdminKeys(context.Context) ([]allot.AdminKeyInfo, error) {
	return nil, errBroken
}
func (brokenStore) RevokeAdminKey(context.Context, string) error { return errBroken }
func (brokenStore) Ping(context.Context) error                   { return errBroken }

// listener is one running server.
type listener struct {
	url   string
	plane string
}

// contract runs calls against the servers and checks them against the document.
type contract struct {
	doc    *openapi3.T
	ops    map[string]*openapi3.Operation
	router routers.Router
	obs    *observations
	srv    map[string]listener

	ak, sk              string
	token, expiredToken string
	adminKey, spKey     string
	creds               credentialFixture
	// Reservations made before the calls, whose generated ids the calls
	// name: one to commit, one to release.
	toCommit, toRelease string
	// The orders the order calls name (openapi_orders_test.go).
	orders orderFixture

	mu       sync.Mutex
	covered  map[string]map[int]bool // operation key -> statuses seen
	unrouted map[string]map[int]bool // plane -> statuses of unrouted requests
}

func newContract(t *testing.T) *contract {
	doc := loadDocument(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := &contract{doc: doc, ops: operations(doc), router: router, obs: &observations{}, srv: make(map[string]listener),
		covered: make(map[string]map[int]bool), unrouted: make(map[string]map[int]bool)}

	ctx := context.Background()
	key, err := secret.ParseKey(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	keyring, err := secret.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	store := openContractStore(t)
	if err := store.Import(ctx, fixture()); err != nil {
		t.Fatalf("import fixture: %v", err)
	}

	c.ak, c.sk = "AKCONTRACT", "secret-of-AKCONTRACT"
	cred, err := app.SealCredential(keyring, projA, c.ak, c.sk, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateCredential(ctx, cred); err != nil {
		t.Fatal(err)
	}
	newToken := func(tok, project string, expires time.Time) string {
		hash := sha256.Sum256([]byte(tok))
		if err := store.CreateToken(ctx, allot.Token{Hash: hash[:], ProjectID: project, ExpiresAt: expires, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	c.token = newToken("token-of-proj-a", projA, time.Now().Add(time.Hour))
	c.expiredToken = newToken("expired-token", projA, time.Now().Add(-time.Hour))
	newKey := func(name string, role allot.Role, sp string) string {
		k := "key-of-" + name
		hash := sha256.Sum256([]byte(k))
		if err := store.CreateAdminKey(ctx, allot.AdminKey{ID: name, Hash: hash[:], Role: role, SPProjectID: sp, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		return k
	}
	c.adminKey = newKey("ops", allot.RoleAdmin, "")
	c.spKey = newKey("sp-1-key", allot.RoleSP, spProj)
	c.creds = newCredentialFixture(t, store, keyring)
	svc := &allot.Service{Store: store}
	reserve := func(key string) string {
		out, err := svc.Reserve(ctx, allot.Actor{ID: "ops", Role: allot.RoleAdmin}, allot.ReserveRequest{ProjectID: projA, ResourceID: "r-video",
			Amount: allot.QuantityScale, TTL: 3600, IdempotencyKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return out.ReservationID
	}
	c.toCommit, c.toRelease = reserve("fixture-commit"), reserve("fixture-release")
	c.orders = newOrderFixture(t, store, svc)
	notifyFixture(t, store, keyring)

	// Each variant runs through the wiring 'allot serve' uses; only the
	// store (a broken one) or the rate limit differs.
	start := func(name string, store allot.Store, limited bool) {
		cfg := app.Config{Store: store, Keyring: keyring, Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
			Tune: func(_ string, cfg *api.Config) { cfg.Observer = c.obs }}
		if limited {
			cfg.RateLimit, cfg.RateBurst = 0.001, 1
		}
		a, err := app.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close(context.Background()) })
		c.srv["tenant"+name] = listener{url: a.TenantURL(), plane: tenantPlane}
		c.srv["admin"+name] = listener{url: a.AdminURL(), plane: adminPlane}
	}
	start("", store, false)
	start("-limited", store, true)
	start("-broken", brokenStore{store}, false)
	return c
}

// auth says how a call authenticates.
type auth int

const (
	noAuth     auth = iota
	signed          // AK/SK of projA, signed now
	signedLate      // AK/SK of projA, signed an hour ago
	badSig          // AK/SK of projA with a wrong signature
	withToken       // projA's token
	expiredTok      // projA's expired token
	adminKey        // an admin key
	spKey           // sp-1's sp key
	unknownKey      // a bearer key that does not exist
)

// verdict is what the document says of a request.
type verdict bool

const (
	docAccepts verdict = false
	// docRefuses: a bad parameter or body, or no credentials, by the
	// document's own schemas. The server must refuse such a request too;
	// it also refuses some the document accepts, on rules the document
	// states only in prose (a start after an end, a parameter given twice).
	docRefuses verdict = true
)

// call is one request and what the server must answer.
type call struct {
	name   string
	server string // a key of contract.srv
	method string
	target string // path and query
	auth   auth
	header http.Header
	body   string
	want   int
	doc    verdict
	check  func(t *testing.T, body []byte)
}

func (c *contract) request(t *testing.T, k call) *http.Request {
	t.Helper()
	l, ok := c.srv[k.server]
	if !ok {
		t.Fatalf("no server %q", k.server)
	}
	req, err := http.NewRequest(k.method, l.url+k.target, strings.NewReader(k.body))
	if err != nil {
		t.Fatal(err)
	}
	if k.body == "" {
		req.Body, req.ContentLength, req.GetBody = http.NoBody, 0, nil
	} else if strings.HasPrefix(k.body, "{") {
		req.Header.Set("Content-Type", "application/json")
	}
	for name, vs := range k.header {
		req.Header[name] = vs
	}
	switch k.auth {
	case signed, signedLate, badSig:
		at := time.Now()
		if k.auth == signedLate {
			at = at.Add(-time.Hour)
		}
		if err := sign.Sign(req, []byte(k.body), c.ak, []byte(c.sk), at); err != nil {
			t.Fatal(err)
		}
		if k.auth == badSig {
			h := req.Header.Get("Authorization")
			req.Header.Set("Authorization", h[:len(h)-4]+"0000")
		}
	case withToken:
		req.Header.Set("X-Auth-Token", c.token)
	case expiredTok:
		req.Header.Set("X-Auth-Token", c.expiredToken)
	case adminKey:
		req.Header.Set("Authorization", "Bearer "+c.adminKey)
	case spKey:
		req.Header.Set("Authorization", "Bearer "+c.spKey)
	case unknownKey:
		req.Header.Set("Authorization", "Bearer not-a-key")
	}
	return req
}

// authenticate is the validator's view of the security schemes: a
// credential is present in the form its scheme names. Whether it is right
// is the server's business.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	s := in.SecurityScheme
	switch {
	case s.Type == "apiKey" && s.In == "header":
		if h.Get(s.Name) == "" {
			return fmt.Errorf("no %s header", s.Name)
		}
	case s.Type == "http" && s.Scheme == "bearer":
		if k, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer "); !ok || k == "" {
			return errors.New("no bearer credential")
		}
	default:
		return fmt.Errorf("unexpected security scheme %s", in.SecuritySchemeName)
	}
	return nil
}

func options() *openapi3filter.Options {
	return &openapi3filter.Options{AuthenticationFunc: authenticate, IncludeResponseStatus: true, MultiError: true}
}

// run sends one call and checks the request, the response and the route
// that served it against the document. It returns the response's header.
func (c *contract) run(t *testing.T, k call) http.Header {
	t.Helper()
	req := c.request(t, k)
	plane := c.srv[k.server].plane
	ctx := context.Background()

	// The document's view of the request, on a copy.
	v := req.Clone(ctx)
	v.Body = io.NopCloser(strings.NewReader(k.body))
	route, params, routeErr := c.router.FindRoute(v)
	served := routeErr == nil && slices.Contains(listeners(t, route.Operation), plane)
	var input *openapi3filter.RequestValidationInput
	if served {
		input = &openapi3filter.RequestValidationInput{Request: v, PathParams: params, Route: route, Options: options()}
		err := openapi3filter.ValidateRequest(ctx, input)
		switch {
		case err == nil && k.doc == docRefuses:
			t.Errorf("the document accepts this request; the call says it refuses it")
		case err != nil && k.doc == docAccepts:
			t.Errorf("the document refuses the request: %v", err)
		}
	} else if k.doc == docRefuses {
		t.Errorf("the call expects the document to refuse a request it has no operation for")
	}

	n := c.obs.len()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != k.want {
		t.Errorf("status %d, want %d: %s", resp.StatusCode, k.want, truncated(body))
	}

	// The server's view: which route served the request.
	seen := c.obs.since(n)
	if len(seen) != 1 {
		t.Fatalf("the servers observed %d requests, want 1: %+v", len(seen), seen)
	}
	gotPlane := seen[0].plane
	if gotPlane == "admin" {
		gotPlane = adminPlane
	}
	if gotPlane != plane || seen[0].status != resp.StatusCode {
		t.Errorf("the server observed %+v, want the %s plane and status %d", seen[0], plane, resp.StatusCode)
	}
	if served {
		if want := route.Method + " " + route.Path; seen[0].route != want {
			t.Errorf("the server routed it to %q; the document to %q", seen[0].route, want)
		}
	} else {
		if seen[0].route != "/" {
			t.Errorf("the server routed it to %q; the document has no such operation on the %s listener", seen[0].route, plane)
		}
		// Unrouted requests answer with the responses x-unrouted names.
		ref := c.unroutedResponse(t, plane, resp.StatusCode)
		op := openapi3.NewOperation()
		op.Responses = openapi3.NewResponses(openapi3.WithStatus(resp.StatusCode, ref))
		route = &routers.Route{Spec: c.doc, Path: req.URL.Path, Method: req.Method, Operation: op}
		input = &openapi3filter.RequestValidationInput{Request: v, Route: route, Options: options()}
	}

	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: input, Status: resp.StatusCode, Header: resp.Header, Options: options()}
	out.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("the response does not match the document: %v\n%s", err, truncated(body))
	}
	if k.check != nil && resp.StatusCode == k.want {
		k.check(t, body)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	key, m := plane, c.unrouted
	if served {
		key, m = route.Method+" "+route.Path, c.covered
	}
	if m[key] == nil {
		m[key] = make(map[int]bool)
	}
	m[key][resp.StatusCode] = true
	return resp.Header
}

func (c *contract) unroutedResponse(t *testing.T, plane string, status int) *openapi3.ResponseRef {
	t.Helper()
	byPlane, _ := c.doc.Extensions["x-unrouted"].(map[string]any)
	byStatus, _ := byPlane[plane].(map[string]any)
	entry, _ := byStatus[strconv.Itoa(status)].(map[string]any)
	ref, _ := entry["$ref"].(string)
	name, ok := strings.CutPrefix(ref, "#/components/responses/")
	if !ok || c.doc.Components.Responses[name] == nil {
		t.Fatalf("x-unrouted.%s has no response for status %d", plane, status)
	}
	return c.doc.Components.Responses[name]
}

func truncated(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}

// pathExample fills a documented path's parameters.
func pathExample(path string) string {
	return strings.NewReplacer("{project_id}", projA, "{resource_id}", "r-video",
		"{webhook_id}", contractWebhook, "{delivery_id}", contractDelivery).Replace(path)
}

func TestOpenAPIContract(t *testing.T) {
	c := newContract(t)
	calls := contractCalls(c)
	ran := 0
	for _, k := range calls {
		t.Run(k.name, func(t *testing.T) {
			ran++
			c.run(t, k)
		})
	}
	// The method and listener probes cover every documented path.
	t.Run("probes", func(t *testing.T) {
		ran++
		c.probe(t)
	})
	if ran != len(calls)+1 || t.Failed() {
		return // a subset ran, or something failed already: coverage would only add noise
	}

	// Every status each operation documents was provoked, and nothing else.
	for key, op := range c.ops {
		var want, got []int
		for code := range op.Responses.Map() {
			n, err := strconv.Atoi(code)
			if err != nil {
				t.Errorf("%s: response %q is not a status code", key, code)
				continue
			}
			want = append(want, n)
		}
		for n := range c.covered[key] {
			got = append(got, n)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: the calls provoked statuses %v; the document lists %v", key, got, want)
		}
	}
	for _, plane := range []string{tenantPlane, adminPlane} {
		if got := c.unrouted[plane]; !got[404] || !got[405] || len(got) != 2 {
			t.Errorf("unrouted requests on the %s listener answered %v, want 404 and 405", plane, got)
		}
	}
}

// probe sends, for every documented path, a method it does not have (the
// answer must be 405 with an Allow header naming exactly the documented
// methods) on each listener that serves it, and a documented method on each
// listener that does not (404).
func (c *contract) probe(t *testing.T) {
	type pathInfo struct {
		methods []string
		planes  map[string]bool
	}
	paths := make(map[string]*pathInfo)
	for key, op := range c.ops {
		method, path, _ := strings.Cut(key, " ")
		p := paths[path]
		if p == nil {
			p = &pathInfo{planes: make(map[string]bool)}
			paths[path] = p
		}
		p.methods = append(p.methods, method)
		for _, l := range listeners(t, op) {
			p.planes[l] = true
		}
	}
	servers := map[string]string{tenantPlane: "tenant", adminPlane: "admin"}
	for path, p := range paths {
		slices.Sort(p.methods)
		for plane, server := range servers {
			target := pathExample(path)
			if !p.planes[plane] {
				t.Run(p.methods[0]+" "+path+" on "+plane, func(t *testing.T) {
					c.run(t, call{server: server, method: p.methods[0], target: target, want: 404})
				})
				continue
			}
			t.Run("PATCH "+path+" on "+plane, func(t *testing.T) {
				allow := c.run(t, call{server: server, method: http.MethodPatch, target: target, want: 405}).Get("Allow")
				got := strings.Split(allow, ", ")
				slices.Sort(got)
				if !slices.Equal(got, p.methods) {
					t.Errorf("Allow %q; the document has %v", allow, p.methods)
				}
			})
		}
	}
	for plane, server := range servers {
		t.Run("unknown path on "+plane, func(t *testing.T) {
			c.run(t, call{server: server, method: http.MethodGet, target: "/v2/nothing/here", want: 404})
		})
	}
}

// Bodies one byte over the server's 1 MiB limit: the server reads them to
// the end before it refuses, so the answer never races a reset connection.
var (
	bigBody     = strings.Repeat("x", 1<<20+1)
	bigJSONBody = `{"reason":"` + strings.Repeat("x", 1<<20+1-len(`{"reason":""}`)) + `"}`
)

func contractCalls(c *contract) []call {
	list := "/v1/" + projA + "/tenants/resources"
	assign := "/v1/" + projA + "/tenants/resource/assignrecourd"
	count := "/v1/" + projA + "/tenants/resources-count"
	usage := "/v1/" + projA + "/tenants/resources-usage"
	res := "/admin/v1/projects/" + projA + "/resources/"
	hdr := func(kv ...string) http.Header {
		h := make(http.Header)
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	var calls []call
	add := func(k ...call) { calls = append(calls, k...) }
	tenant := func(name, target string, a auth, want int, v verdict) call {
		return call{name: name, server: "tenant", method: "GET", target: target, auth: a, want: want, doc: v}
	}
	admin := func(name, method, target string, a auth, body string, want int, v verdict) call {
		return call{name: name, server: "admin", method: method, target: target, auth: a, body: body, want: want, doc: v}
	}
	// mentions makes k check that the answer's body contains text.
	mentions := func(k call, text string) call {
		k.check = func(t *testing.T, body []byte) {
			if !bytes.Contains(body, []byte(text)) {
				t.Errorf("the answer does not mention %s: %s", text, body)
			}
		}
		return k
	}

	// Service routes, on both listeners.
	for _, server := range []string{"tenant", "admin"} {
		add(call{name: server + " healthz", server: server, method: "GET", target: "/healthz", want: 200},
			call{name: server + " readyz", server: server, method: "GET", target: "/readyz", want: 200},
			call{name: server + " readyz broken", server: server + "-broken", method: "GET", target: "/readyz", want: 503},
			call{name: server + " openapi.json", server: server, method: "GET", target: "/openapi.json", want: 200,
				check: func(t *testing.T, body []byte) {
					if !bytes.Equal(body, api.OpenAPIDocument()) {
						t.Error("GET /openapi.json does not serve the embedded document")
					}
				}})
	}
	add(call{name: "metrics", server: "admin", method: "GET", target: "/metrics", want: 200})

	// The tenant API: good requests, each parameter's refusals, each way
	// authentication fails.
	add(
		tenant("list all", list+"?resource_source=PURCHASED,SP_ALLOCATED,ADMIN_ALLOCATED&limit=100", signed, 200, docAccepts),
		tenant("list every filter", list+"?resource_source=PURCHASED&business=VIDEO_2D,LIVE_2D&resource=VIDEO_2D_MIN&resource_id=r-video&order_id=order-1"+
			"&charging_mode=PERIODIC&resource_expire_start_time=2021-01-10T08:43:17Z&resource_expire_end_time=2031-01-10T08:43:17%2B08:00&status=0&limit=1&offset=0&unknown=ignored", withToken, 200, docAccepts),
		tenant("list sub-resource", list+"?resource_source=ADMIN_ALLOCATED&sub_resource=voice_clone_flexus&status=1", signed, 200, docAccepts),
		tenant("list past the end", list+"?resource_source=PURCHASED&offset=2147483647", signed, 200, docAccepts),
		tenant("list without resource_source", list, signed, 400, docRefuses),
		tenant("list bare resource_source", list+"?resource_source", signed, 400, docRefuses),
		tenant("list unknown source", list+"?resource_source=BOUGHT", signed, 400, docRefuses),
		tenant("list empty list item", list+"?resource_source=PURCHASED,,SP_ALLOCATED", signed, 400, docRefuses),
		tenant("list unknown business", list+"?resource_source=PURCHASED&business=VIDEO_3D", signed, 400, docRefuses),
		tenant("list bad resource type", list+"?resource_source=PURCHASED&resource=a%20b", signed, 400, docRefuses),
		tenant("list bad resource_id", list+"?resource_source=PURCHASED&resource_id=r%2F1", signed, 400, docRefuses),
		tenant("list empty order_id", list+"?resource_source=PURCHASED&order_id=", signed, 400, docRefuses),
		tenant("list unknown charging_mode", list+"?resource_source=PURCHASED&charging_mode=MONTHLY", signed, 400, docRefuses),
		tenant("list unknown sub_resource", list+"?resource_source=PURCHASED&sub_resource=flexus", signed, 400, docRefuses),
		tenant("list status 2", list+"?resource_source=PURCHASED&status=2", signed, 400, docRefuses),
		tenant("list limit 0", list+"?resource_source=PURCHASED&limit=0", signed, 400, docRefuses),
		tenant("list limit 101", list+"?resource_source=PURCHASED&limit=101", signed, 400, docRefuses),
		tenant("list limit not a number", list+"?resource_source=PURCHASED&limit=ten", signed, 400, docRefuses),
		tenant("list negative offset", list+"?resource_source=PURCHASED&offset=-1", signed, 400, docRefuses),
		tenant("list offset too large", list+"?resource_source=PURCHASED&offset=2147483648", signed, 400, docRefuses),
		tenant("list bad time", list+"?resource_source=PURCHASED&resource_expire_start_time=2021-01-10", signed, 400, docRefuses),
		// Rules the document states in prose only: the server refuses what
		// the schema cannot express.
		tenant("list start after end", list+"?resource_source=PURCHASED&resource_expire_start_time=2022-01-01T00:00:00Z&resource_expire_end_time=2021-01-01T00:00:00Z", signed, 400, docAccepts),
		tenant("list limit twice", list+"?resource_source=PURCHASED&limit=1&limit=2", signed, 400, docAccepts),

		tenant("assignrecourd", assign, signed, 200, docAccepts),
		tenant("assignrecourd page", assign+"?limit=1&offset=1", withToken, 200, docAccepts),
		tenant("assignrecourd limit 101", assign+"?limit=101", signed, 400, docRefuses),

		tenant("count", count, signed, 200, docAccepts),
		tenant("count filtered", count+"?business=VIDEO_2D,LIVE_2D&resource_expire_start_time=2021-01-10T08:43:17Z&resource_expire_end_time=2040-01-01T00:00:00Z", withToken, 200, docAccepts),
		tenant("count unknown business", count+"?business=NOPE", signed, 400, docRefuses),
		tenant("count start after end", count+"?resource_expire_start_time=2022-01-01T00:00:00Z&resource_expire_end_time=2021-01-01T00:00:00Z", signed, 400, docAccepts),

		tenant("usage", usage, signed, 200, docAccepts),
		tenant("usage filtered", usage+"?resource=VIDEO_2D_MIN,spec.live&business=LIVE_2D", withToken, 200, docAccepts),
		tenant("usage empty list item", usage+"?resource=a,,b", signed, 400, docRefuses),
	)
	for _, route := range []struct{ name, path string }{{"list", list + "?resource_source=PURCHASED"}, {"assignrecourd", assign}, {"count", count}, {"usage", usage}} {
		add(
			tenant(route.name+" no credentials", route.path, noAuth, 401, docRefuses),
			tenant(route.name+" bad signature", route.path, badSig, 401, docAccepts),
			tenant(route.name+" signature expired", route.path, signedLate, 401, docAccepts),
			tenant(route.name+" expired token", route.path, expiredTok, 401, docAccepts),
			tenant(route.name+" another project", strings.Replace(route.path, projA, projB, 1), signed, 403, docAccepts),
			call{name: route.name + " X-Project-Id differs", server: "tenant", method: "GET", target: route.path, auth: withToken, header: hdr("X-Project-Id", projB), want: 403},
			call{name: route.name + " body too large", server: "tenant", method: "GET", target: route.path, auth: signed, body: bigBody, want: 413},
			call{name: route.name + " internal error", server: "tenant-broken", method: "GET", target: route.path, auth: signed, want: 500},
		)
	}
	// The rate limit: the first call takes the only token, the others are refused.
	add(call{name: "first call within the rate limit", server: "tenant-limited", method: "GET", target: count, auth: signed, want: 200})
	for _, path := range []string{list + "?resource_source=PURCHASED", assign, count, usage} {
		add(call{name: "rate limited " + path, server: "tenant-limited", method: "GET", target: path, auth: signed, want: 429})
	}

	// IAM project discovery.
	add(
		tenant("iam region", "/v3/projects?name="+region, signed, 200, docAccepts),
		tenant("iam other region", "/v3/projects?name=eu-west-0", signed, 200, docAccepts),
		tenant("iam no name", "/v3/projects", withToken, 200, docAccepts),
		tenant("iam no credentials", "/v3/projects", noAuth, 401, docRefuses),
		tenant("iam bad signature", "/v3/projects", badSig, 401, docAccepts),
		call{name: "iam body too large", server: "tenant", method: "GET", target: "/v3/projects", auth: signed, body: bigBody, want: 413},
		call{name: "iam internal error", server: "tenant-broken", method: "GET", target: "/v3/projects", auth: signed, want: 500},
	)

	add(tenantSettingsCalls()...)

	// The management API.
	purchase := `{"project_id":"` + projA + `","resource_id":"pkg-1","resource_source":"PURCHASED","order_id":"o-1","resource_type":"VIDEO_2D_MIN",` +
		`"business_type":"VIDEO_2D","sub_resource_type":"video_time_flexus_2d_model","is_sub_resource":true,"charging_mode":"PERIODIC","unit":"MIN","amount":120.5,"resource_expire_time":"2030-01-01T00:00:00Z"}`
	grant := `{"project_id":"` + projA + `","resource_source":"ADMIN_ALLOCATED","resource_type":"T","business_type":"CHAT_2D","charging_mode":"ON_DEMAND","unit":"TIME","amount":5,"idempotency_key":"g-1"}`
	allocation := `{"sp_project_id":"` + spProj + `","customer_project_id":"` + projA + `","resource_spec_code":"spec.live","amount":4,"idempotency_key":"al-1"}`
	add(
		admin("package purchase", "POST", "/admin/v1/packages", adminKey, purchase, 201, docAccepts),
		admin("package purchase again", "POST", "/admin/v1/packages", adminKey, purchase, 200, docAccepts),
		admin("package same order other terms", "POST", "/admin/v1/packages", adminKey, strings.Replace(purchase, "120.5", "99", 1), 409, docAccepts),
		admin("package admin grant", "POST", "/admin/v1/packages", adminKey, grant, 201, docAccepts),
		admin("package unknown project", "POST", "/admin/v1/packages", adminKey, strings.Replace(grant, projA, "nobody", 1), 404, docAccepts),
		admin("package by an sp key", "POST", "/admin/v1/packages", spKey, grant, 403, docAccepts),
		admin("package without order", "POST", "/admin/v1/packages", adminKey, strings.Replace(purchase, `"order_id":"o-1",`, "", 1), 400, docRefuses),
		admin("package SP_ALLOCATED", "POST", "/admin/v1/packages", adminKey, strings.Replace(grant, "ADMIN_ALLOCATED", "SP_ALLOCATED", 1), 400, docRefuses),
		admin("package unknown field", "POST", "/admin/v1/packages", adminKey, strings.Replace(grant, `"unit"`, `"units"`, 1), 400, docRefuses),
		admin("package amount 0", "POST", "/admin/v1/packages", adminKey, strings.Replace(grant, `"amount":5`, `"amount":0`, 1), 400, docRefuses),
		// Bodies another JSON parser could read differently are refused,
		// naming the key; the document cannot say so of a repeated key.
		mentions(admin("package key given twice", "POST", "/admin/v1/packages", adminKey, strings.Replace(grant, `"amount":5`, `"amount":5,"amount":500`, 1), 400, docAccepts), "amount: is given more than once"),
		mentions(admin("package key in another case", "POST", "/admin/v1/packages", adminKey, strings.Replace(grant, `"amount"`, `"Amount"`, 1), 400, docRefuses), `Amount: is not a known field (keys are case-sensitive: did you mean \"amount\"?)`),
		mentions(admin("package body not an object", "POST", "/admin/v1/packages", adminKey, `["amount",5]`, 400, docRefuses), `"body: must be a JSON object"`),
		admin("package amount over the maximum", "POST", "/admin/v1/packages", adminKey, strings.Replace(grant, `"amount":5`, `"amount":1000001`, 1), 400, docRefuses),

		admin("allocation", "POST", "/admin/v1/allocations", spKey, allocation, 201, docAccepts),
		admin("allocation again", "POST", "/admin/v1/allocations", spKey, allocation, 200, docAccepts),
		admin("allocation too much", "POST", "/admin/v1/allocations", adminKey, strings.Replace(strings.Replace(allocation, `"amount":4`, `"amount":1000`, 1), "al-1", "al-2", 1), 409, docAccepts),
		admin("allocation to an unknown project", "POST", "/admin/v1/allocations", adminKey, strings.Replace(strings.Replace(allocation, projA, "nobody", 1), "al-1", "al-3", 1), 404, docAccepts),
		admin("allocation for another sp", "POST", "/admin/v1/allocations", spKey, strings.Replace(allocation, `"sp_project_id":"`+spProj, `"sp_project_id":"sp-2`, 1), 403, docAccepts),
		admin("allocation to a non-customer", "POST", "/admin/v1/allocations", spKey, strings.Replace(strings.Replace(allocation, projA, projB, 1), "al-1", "al-4", 1), 400, docAccepts),
		admin("allocation without key", "POST", "/admin/v1/allocations", spKey, strings.Replace(allocation, `,"idempotency_key":"al-1"`, "", 1), 400, docRefuses),

		admin("consume", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":20.25,"idempotency_key":"c-1"}`, 200, docAccepts),
		admin("consume by type", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_type":"VIDEO_2D_MIN","amount":0.000001,"idempotency_key":"c-2"}`, 200, docAccepts),
		admin("consume again", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":20.25,"idempotency_key":"c-1"}`, 200, docAccepts),
		admin("consume too much", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":1000,"idempotency_key":"c-3"}`, 409, docAccepts),
		admin("consume frozen", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"r-flexus","amount":1,"idempotency_key":"c-4"}`, 409, docAccepts),
		admin("consume unknown resource", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"nothing","amount":1,"idempotency_key":"c-5"}`, 404, docAccepts),
		admin("consume by an sp key", "POST", "/admin/v1/consume", spKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":1,"idempotency_key":"c-6"}`, 403, docAccepts),
		admin("consume id and type", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","resource_type":"VIDEO_2D_MIN","amount":1,"idempotency_key":"c-7"}`, 400, docRefuses),
		admin("consume more than six decimals", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":0.0000001,"idempotency_key":"c-8"}`, 400, docAccepts),
		// A quantity may be a decimal in a JSON string, as the document says.
		admin("consume amount as a string", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":"1.5","idempotency_key":"c-s1"}`, 200, docAccepts),
		admin("consume amount as a string in exponent form", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":"25e-2","idempotency_key":"c-s2"}`, 200, docAccepts),
		admin("consume amount as a string, not a number", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":"lots","idempotency_key":"c-s3"}`, 400, docRefuses),
		admin("consume amount as a negative string", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":"-1","idempotency_key":"c-s4"}`, 400, docRefuses),
		admin("consume amount as a string with seven decimals", "POST", "/admin/v1/consume", adminKey, `{"project_id":"`+projA+`","resource_id":"pkg-1","amount":"0.0000001","idempotency_key":"c-s5"}`, 400, docAccepts),
		// A batch: each event has its own outcome, and a refused one refuses nothing else.
		admin("consume batch", "POST", "/admin/v1/consume:batch", adminKey, `{"events":[`+
			`{"project_id":"`+projA+`","resource_id":"pkg-1","amount":0.5,"idempotency_key":"cb-1"},`+
			`{"project_id":"`+projA+`","resource_id":"pkg-1","amount":20.25,"idempotency_key":"c-1"},`+
			`{"project_id":"`+projA+`","resource_id":"pkg-1","amount":0.5,"idempotency_key":"cb-1"},`+
			`{"project_id":"`+projA+`","resource_id":"pkg-1","amount":1000,"idempotency_key":"cb-2"},`+
			`{"project_id":"`+projA+`","resource_id":"pkg-1","amount":-1,"idempotency_key":"cb-3"}]}`, 200, docAccepts),
		admin("consume batch empty", "POST", "/admin/v1/consume:batch", adminKey, `{"events":[]}`, 400, docRefuses),
		admin("consume batch without events", "POST", "/admin/v1/consume:batch", adminKey, `{}`, 400, docRefuses),
		admin("consume batch too long", "POST", "/admin/v1/consume:batch", adminKey, `{"events":[`+strings.Repeat(`{},`, 1000)+`{}]}`, 400, docRefuses),
		admin("consume batch by an sp key", "POST", "/admin/v1/consume:batch", spKey, `{"events":[{"project_id":"`+projA+`","resource_id":"pkg-1","amount":1,"idempotency_key":"cb-4"}]}`, 403, docAccepts),
		admin("package amount as a string", "POST", "/admin/v1/packages", adminKey, strings.Replace(strings.Replace(grant, `"amount":5`, `"amount":"5.5"`, 1), "g-1", "g-s", 1), 201, docAccepts),
		admin("allocation amount as a string", "POST", "/admin/v1/allocations", spKey, strings.Replace(strings.Replace(allocation, `"amount":4`, `"amount":"1"`, 1), "al-1", "al-s", 1), 201, docAccepts),
		admin("refund amount as a string", "POST", res+"pkg-1/refund", adminKey, `{"amount":"0.5","reason":"render failed","idempotency_key":"rf-s"}`, 200, docAccepts),

		admin("refund", "POST", res+"pkg-1/refund", adminKey, `{"amount":0.25,"reason":"render failed","idempotency_key":"rf-1"}`, 200, docAccepts),
		admin("refund more than used", "POST", res+"pkg-1/refund", adminKey, `{"amount":1000,"reason":"oops","idempotency_key":"rf-2"}`, 409, docAccepts),
		admin("refund unknown resource", "POST", res+"nothing/refund", adminKey, `{"amount":1,"reason":"x","idempotency_key":"rf-3"}`, 404, docAccepts),
		admin("refund by an sp key", "POST", res+"pkg-1/refund", spKey, `{"amount":1,"reason":"x","idempotency_key":"rf-4"}`, 403, docAccepts),
		admin("refund without reason", "POST", res+"pkg-1/refund", adminKey, `{"amount":1,"idempotency_key":"rf-5"}`, 400, docRefuses),

		admin("freeze", "POST", res+"pkg-1/freeze", adminKey, `{"reason":"unpaid"}`, 200, docAccepts),
		admin("freeze again", "POST", res+"pkg-1/freeze", adminKey, `{}`, 200, docAccepts),
		admin("freeze unknown resource", "POST", res+"nothing/freeze", adminKey, `{}`, 404, docAccepts),
		admin("freeze by an sp key", "POST", res+"pkg-1/freeze", spKey, `{}`, 403, docAccepts),
		admin("freeze without body", "POST", res+"pkg-1/freeze", adminKey, "", 400, docRefuses),
		admin("unfreeze", "POST", res+"pkg-1/unfreeze", adminKey, `{}`, 200, docAccepts),
		admin("unfreeze unknown resource", "POST", res+"nothing/unfreeze", adminKey, `{}`, 404, docAccepts),
		admin("unfreeze by an sp key", "POST", res+"pkg-1/unfreeze", spKey, `{}`, 403, docAccepts),
		admin("unfreeze reason too long", "POST", res+"pkg-1/unfreeze", adminKey, `{"reason":"`+strings.Repeat("x", 1025)+`"}`, 400, docRefuses),

		admin("bind asset", "PUT", res+"pkg-1/asset", adminKey, `{"asset_id":"asset-9","asset_name":"Host"}`, 200, docAccepts),
		admin("bind asset unknown resource", "PUT", res+"nothing/asset", adminKey, `{"asset_id":"asset-9"}`, 404, docAccepts),
		admin("bind asset by an sp key", "PUT", res+"pkg-1/asset", spKey, `{"asset_id":"asset-9"}`, 403, docAccepts),
		admin("bind asset bad id", "PUT", res+"pkg-1/asset", adminKey, `{"asset_id":"asset 9"}`, 400, docRefuses),
		admin("unbind asset", "DELETE", res+"pkg-1/asset", adminKey, "", 200, docAccepts),
		admin("unbind asset unknown resource", "DELETE", res+"nothing/asset", adminKey, "", 404, docAccepts),
		admin("unbind asset by an sp key", "DELETE", res+"pkg-1/asset", spKey, "", 403, docAccepts),
		admin("unbind asset bad path", "DELETE", "/admin/v1/projects/bad!id/resources/pkg-1/asset", adminKey, "", 400, docRefuses),
	)
	// Reclaim and cancel act on the SP allocation of the fixture.
	add(
		admin("reclaim", "POST", res+"assign-1/reclaim", spKey, `{"amount":0.5,"reason":"downsize","idempotency_key":"rc-1"}`, 200, docAccepts),
		admin("reclaim too much", "POST", res+"assign-1/reclaim", spKey, `{"amount":100,"idempotency_key":"rc-2"}`, 409, docAccepts),
		admin("reclaim unknown resource", "POST", res+"nothing/reclaim", spKey, `{"idempotency_key":"rc-3"}`, 404, docAccepts),
		admin("reclaim by another sp", "POST", res+"pkg-1/reclaim", spKey, `{"idempotency_key":"rc-4"}`, 403, docAccepts),
		admin("reclaim amount 0", "POST", res+"assign-1/reclaim", spKey, `{"amount":0,"idempotency_key":"rc-5"}`, 400, docRefuses),
		admin("cancel", "POST", res+"assign-1/cancel", spKey, `{"reason":"ended","idempotency_key":"cn-1"}`, 200, docAccepts),
		admin("cancel key reused", "POST", res+"assign-1/cancel", spKey, `{"reason":"other","idempotency_key":"cn-1"}`, 409, docAccepts),
		admin("cancel cancelled", "POST", res+"assign-1/cancel", spKey, `{"idempotency_key":"cn-2"}`, 404, docAccepts),
		admin("cancel by another sp", "POST", res+"pkg-1/cancel", spKey, `{"idempotency_key":"cn-3"}`, 403, docAccepts),
		admin("cancel with amount", "POST", res+"pkg-1/cancel", adminKey, `{"amount":1,"idempotency_key":"cn-4"}`, 400, docRefuses),

		admin("ledger", "GET", "/admin/v1/ledger?project_id="+projA+"&limit=100", adminKey, "", 200, docAccepts),
		admin("ledger filtered", "GET", "/admin/v1/ledger?project_id="+projA+"&resource_id=pkg-1&from=2020-01-01T00:00:00Z&to=2040-01-01T00:00:00Z&offset=1", spKey, "", 200, docAccepts),
		admin("ledger without project", "GET", "/admin/v1/ledger", adminKey, "", 400, docRefuses),
		admin("ledger of another sp's tenant", "GET", "/admin/v1/ledger?project_id="+projB, spKey, "", 403, docAccepts),
		admin("ledger csv", "GET", "/admin/v1/ledger?project_id="+projA+"&format=csv", adminKey, "", 200, docAccepts),
		admin("ledger unknown format", "GET", "/admin/v1/ledger?project_id="+projA+"&format=xml", adminKey, "", 400, docRefuses),
		admin("usage", "GET", "/admin/v1/usage?project_id="+projA+"&from=2020-01-01T00:00:00Z&to=2040-01-01T00:00:00Z&group_by=hour", adminKey, "", 200, docAccepts),
		admin("usage csv", "GET", "/admin/v1/usage?project_id="+projA+"&format=csv", spKey, "", 200, docAccepts),
		admin("usage without project", "GET", "/admin/v1/usage", adminKey, "", 400, docRefuses),
		admin("usage by week", "GET", "/admin/v1/usage?project_id="+projA+"&group_by=week", adminKey, "", 400, docRefuses),
		admin("usage of another sp's tenant", "GET", "/admin/v1/usage?project_id="+projB, spKey, "", 403, docAccepts),
		admin("drift", "GET", "/admin/v1/drift", adminKey, "", 200, docAccepts),
		admin("drift by an sp key", "GET", "/admin/v1/drift", spKey, "", 403, docAccepts),
		// A tenant's signature is no management credential.
		admin("drift signed with AK/SK", "GET", "/admin/v1/drift", signed, "", 401, docRefuses),
	)
	// Reservations: c.toCommit and c.toRelease hold 1 unit of r-video each.
	rsv := "/admin/v1/reservations"
	reserve := `{"project_id":"` + projA + `","resource_id":"r-video","amount":2.5,"ttl":600,"idempotency_key":"rs-1","user_id":"u-1"}`
	commit, release := rsv+"/"+c.toCommit+"/commit", rsv+"/"+c.toRelease+"/release"
	add(
		admin("reserve", "POST", rsv, adminKey, reserve, 201, docAccepts),
		admin("reserve again", "POST", rsv, adminKey, reserve, 200, docAccepts),
		admin("reserve by type, split", "POST", rsv, adminKey, `{"project_id":"`+projA+`","resource_type":"VIDEO_2D_MIN","amount":1,"ttl":60,"allow_split":true,"idempotency_key":"rs-2"}`, 201, docAccepts),
		admin("reserve too much", "POST", rsv, adminKey, `{"project_id":"`+projA+`","resource_id":"r-video","amount":1000,"ttl":60,"idempotency_key":"rs-3"}`, 409, docAccepts),
		admin("reserve frozen", "POST", rsv, adminKey, `{"project_id":"`+projA+`","resource_id":"r-flexus","amount":1,"ttl":60,"idempotency_key":"rs-4"}`, 409, docAccepts),
		admin("reserve unknown resource", "POST", rsv, adminKey, `{"project_id":"`+projA+`","resource_id":"nothing","amount":1,"ttl":60,"idempotency_key":"rs-5"}`, 404, docAccepts),
		admin("reserve by an sp key", "POST", rsv, spKey, reserve, 403, docAccepts),
		admin("reserve without ttl", "POST", rsv, adminKey, `{"project_id":"`+projA+`","resource_id":"r-video","amount":1,"idempotency_key":"rs-6"}`, 400, docRefuses),
		admin("reserve ttl too long", "POST", rsv, adminKey, `{"project_id":"`+projA+`","resource_id":"r-video","amount":1,"ttl":604801,"idempotency_key":"rs-7"}`, 400, docRefuses),
		admin("reservations", "GET", rsv+"?project_id="+projA+"&limit=100", adminKey, "", 200, docAccepts),
		admin("reservations open", "GET", rsv+"?project_id="+projA+"&state=open", adminKey, "", 200, docAccepts),
		admin("reservations bad state", "GET", rsv+"?project_id="+projA+"&state=pending", adminKey, "", 400, docRefuses),
		admin("reservations without project", "GET", rsv, adminKey, "", 400, docRefuses),
		admin("reservations by an sp key", "GET", rsv+"?project_id="+projA, spKey, "", 403, docAccepts),
		admin("commit more than held", "POST", commit, adminKey, `{"amount":2,"idempotency_key":"cm-0"}`, 400, docAccepts),
		admin("commit", "POST", commit, adminKey, `{"amount":0.7,"idempotency_key":"cm-1"}`, 200, docAccepts),
		admin("commit again", "POST", commit, adminKey, `{"amount":0.7,"idempotency_key":"cm-1"}`, 200, docAccepts),
		admin("commit committed", "POST", commit, adminKey, `{"amount":0.1,"idempotency_key":"cm-2"}`, 409, docAccepts),
		admin("commit unknown reservation", "POST", rsv+"/rsv-nothing/commit", adminKey, `{"amount":1,"idempotency_key":"cm-3"}`, 404, docAccepts),
		admin("commit by an sp key", "POST", commit, spKey, `{"amount":1,"idempotency_key":"cm-4"}`, 403, docAccepts),
		admin("commit without key", "POST", commit, adminKey, `{"amount":1}`, 400, docRefuses),
		admin("release", "POST", release, adminKey, "", 200, docAccepts),
		admin("release again", "POST", release, adminKey, `{}`, 200, docAccepts),
		admin("release committed", "POST", rsv+"/"+c.toCommit+"/release", adminKey, "", 409, docAccepts),
		admin("release unknown reservation", "POST", rsv+"/rsv-nothing/release", adminKey, "", 404, docAccepts),
		admin("release by an sp key", "POST", release, spKey, "", 403, docAccepts),
		admin("release with a body", "POST", release, adminKey, `{"amount":1}`, 400, docRefuses),
	)
	// What every management route shares: authentication, the body limit,
	// the rate limit and internal errors.
	type route struct{ method, path, body string }
	routes := []route{
		{"POST", "/admin/v1/packages", grant},
		{"POST", "/admin/v1/allocations", allocation},
		{"POST", res + "pkg-1/reclaim", `{"idempotency_key":"rc-9"}`},
		{"POST", res + "pkg-1/cancel", `{"idempotency_key":"cn-9"}`},
		{"POST", res + "pkg-1/freeze", `{}`},
		{"POST", res + "pkg-1/unfreeze", `{}`},
		{"PUT", res + "pkg-1/asset", `{"asset_id":"a"}`},
		{"DELETE", res + "pkg-1/asset", ""},
		{"POST", res + "pkg-1/refund", `{"amount":1,"reason":"x","idempotency_key":"rf-9"}`},
		{"POST", "/admin/v1/consume", `{"project_id":"` + projA + `","resource_id":"pkg-1","amount":1,"idempotency_key":"c-9"}`},
		{"POST", "/admin/v1/consume:batch", `{"events":[{"project_id":"` + projA + `","resource_id":"pkg-1","amount":1,"idempotency_key":"cb-9"}]}`},
		{"GET", "/admin/v1/ledger?project_id=" + projA, ""},
		{"GET", "/admin/v1/usage?project_id=" + projA, ""},
		{"GET", "/admin/v1/drift", ""},
		{"POST", rsv, reserve},
		{"GET", rsv + "?project_id=" + projA, ""},
		{"POST", commit, `{"amount":1,"idempotency_key":"cm-9"}`},
		{"POST", release, `{}`},
	}
	add(call{name: "first call within the rate limit", server: "admin-limited", method: "GET", target: "/admin/v1/drift", auth: adminKey, want: 200})
	for _, r := range routes {
		name := r.method + " " + r.path
		add(
			admin(name+" no key", r.method, r.path, noAuth, r.body, 401, docRefuses),
			admin(name+" unknown key", r.method, r.path, unknownKey, r.body, 401, docAccepts),
			call{name: name + " rate limited", server: "admin-limited", method: r.method, target: r.path, auth: adminKey, body: r.body, want: 429},
			call{name: name + " internal error", server: "admin-broken", method: r.method, target: r.path, auth: adminKey, body: r.body, want: 500},
		)
		if r.body != "" {
			add(admin(name+" body too large", r.method, r.path, adminKey, bigJSONBody, 413, docRefuses))
		}
	}
	add(credentialCalls(c)...)
	add(orderCalls(c)...)
	add(notifyCalls()...)
	return calls
}
