// Package storetest is the conformance suite of allot.Store: every store
// implementation runs it from its own tests. It has five entry points,
// each taking a function that opens new, empty stores for one test and
// registers their cleanup with t:
//
//	storetest.Run(t, open)        // allot.Store, allot.AdminKeys and Ping
//	storetest.RunLedger(t, open)  // allot.LedgerStore: Update, its Tx, the lifecycle rules
//	storetest.RunShared(t, open2) // two stores on one database, as two nodes
//	storetest.RunModel(t, open, n) // n random steps per seed, checked against a model
//	storetest.RunDrift(t, openX)   // Drift, against rows corrupted under the store
//
// where open is a func(t *testing.T) allot.Store, open2 a
// func(t *testing.T) (first, second allot.Store) returning two stores
// opened separately on the same new database, and openX returns a store
// with an Exec that runs raw SQL on its database. A store must implement every
// interface its entry point checks: the suite fails, rather than skips, a
// test whose store lacks one.
//
// The suite checks behaviour through the interfaces only, as written in the
// contract of allot.Store, allot.Ledger and allot.AdminKeys, so that every
// store behaves the same for the layers above it. Expected errors are
// compared by code (allot.ErrorCodeOf), never by message. Only RunDrift
// writes raw SQL, through the table and column names every store shares;
// what needs a store's own hooks (older schemas, a store's clock, retries)
// stays in that store's tests.
//
// Times in the suite are whole seconds in UTC, the precision stores keep.
package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// Run runs the suite of allot.Store, allot.AdminKeys and the readiness
// check Ping(context.Context) error. open returns a new, empty store for
// one test and registers its cleanup with t. Subtests run in parallel, each
// on its own store.
func Run(t *testing.T, open func(t *testing.T) allot.Store) {
	t.Run("CreateProject", func(t *testing.T) { testCreateProject(t, open) })
	t.Run("FindProject", func(t *testing.T) { testFindProject(t, open) })
	t.Run("CreateCredential", func(t *testing.T) { testCreateCredential(t, open) })
	t.Run("FindCredential", func(t *testing.T) { testFindCredential(t, open) })
	t.Run("CreateToken", func(t *testing.T) { testCreateToken(t, open) })
	t.Run("FindToken", func(t *testing.T) { testFindToken(t, open) })
	t.Run("ListedTypes", testListedTypes)
	t.Run("ListCredentials", func(t *testing.T) { testListCredentials(t, open) })
	t.Run("RevokeCredential", func(t *testing.T) { testRevokeCredential(t, open) })
	t.Run("ListTokens", func(t *testing.T) { testListTokens(t, open) })
	t.Run("RevokeToken", func(t *testing.T) { testRevokeToken(t, open) })
	t.Run("Import", func(t *testing.T) { testImport(t, open) })
	t.Run("ImportMessages", func(t *testing.T) { testImportMessages(t, open) })
	t.Run("ImportStream", func(t *testing.T) { testImportStream(t, open) })
	t.Run("TenantVersion", func(t *testing.T) { testTenantVersion(t, open) })
	t.Run("TenantChanges", func(t *testing.T) { testTenantChanges(t, open) })
	t.Run("AdminKeys", func(t *testing.T) { testAdminKeys(t, open) })
	t.Run("AdminKeyRevocation", func(t *testing.T) { testAdminKeyRevocation(t, open) })
	t.Run("Ping", func(t *testing.T) { testPing(t, open) })
	t.Run("Wipe", func(t *testing.T) { testWipe(t, open) })
	t.Run("ConsoleSessions", func(t *testing.T) { testConsoleSessions(t, open) })
	t.Run("ListProjects", func(t *testing.T) { testListProjects(t, open) })
	t.Run("LedgerOpFilter", func(t *testing.T) { testLedgerOpFilter(t, open) })
	t.Run("MissingProject", func(t *testing.T) { testMissingProject(t, open) })
}

// Epoch is the suite's reference time: whole seconds, UTC.
var Epoch = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// NewProject returns a valid project; spID may be empty.
func NewProject(id, spID string) allot.Project {
	return allot.Project{ID: id, Name: "Project " + id, RegionID: "cn-north-4", SPProjectID: spID, CreatedAt: Epoch}
}

// NewResource returns a valid resource of a project.
func NewResource(projectID, resourceID string) allot.Resource {
	return allot.Resource{
		ProjectID:    projectID,
		ResourceID:   resourceID,
		OrderID:      "order-" + resourceID,
		ExpireTime:   Epoch.AddDate(1, 0, 0),
		ResourceType: "hws.resource.type.metastudio.voice",
		BusinessType: "VOICE_CLONE",
		ChargingMode: "PERIODIC",
		Source:       allot.SourcePurchased,
		Amount:       10 * allot.QuantityScale,
		Usage:        3*allot.QuantityScale + allot.QuantityScale/2,
		Status:       allot.StatusNormal,
		Unit:         "NUM",
	}
}

// NewAssignment returns a valid allocation record from spID to customerID.
func NewAssignment(recordID, spID, customerID string) allot.Assignment {
	return allot.Assignment{
		RecordID:          recordID,
		SPProjectID:       spID,
		CustomerProjectID: customerID,
		ResourceSpecCode:  "hws.resource.type.metastudio.voice.clone",
		ChargingMode:      "ONE_TIME",
		ResourceNum:       5 * allot.QuantityScale,
		ResourceUsedNum:   2 * allot.QuantityScale,
		AllocateTime:      Epoch,
		ExpireTime:        Epoch.AddDate(0, 6, 0),
	}
}

// MustCreateProject creates p and returns it.
func MustCreateProject(tb testing.TB, s allot.Store, p allot.Project) allot.Project {
	tb.Helper()
	if err := s.CreateProject(tb.Context(), p); err != nil {
		tb.Fatalf("CreateProject(%s): %v", p.ID, err)
	}
	return p
}

// MustImport imports b.
func MustImport(tb testing.TB, s allot.Store, b allot.ImportBatch) {
	tb.Helper()
	if err := s.Import(tb.Context(), b); err != nil {
		tb.Fatalf("Import: %v", err)
	}
}

// MustCreateCredential creates c and returns it.
func MustCreateCredential(tb testing.TB, s allot.Store, c allot.Credential) allot.Credential {
	tb.Helper()
	if err := s.CreateCredential(tb.Context(), c); err != nil {
		tb.Fatalf("CreateCredential(%s): %v", c.AccessKey, err)
	}
	return c
}

// MustCreateToken creates t and returns it.
func MustCreateToken(tb testing.TB, s allot.Store, t allot.Token) allot.Token {
	tb.Helper()
	if err := s.CreateToken(tb.Context(), t); err != nil {
		tb.Fatalf("CreateToken: %v", err)
	}
	return t
}

// MustTenantVersion returns a project's version.
func MustTenantVersion(tb testing.TB, s allot.Store, projectID string) int64 {
	tb.Helper()
	v, err := s.TenantVersion(tb.Context(), projectID)
	if err != nil {
		tb.Fatalf("TenantVersion(%s): %v", projectID, err)
	}
	return v
}

// MustTenantChanges returns a project's changes after version since.
func MustTenantChanges(tb testing.TB, s allot.Store, projectID string, since int64) allot.TenantDelta {
	tb.Helper()
	d, err := s.TenantChanges(tb.Context(), projectID, since)
	if err != nil {
		tb.Fatalf("TenantChanges(%s, %d): %v", projectID, since, err)
	}
	return d
}

// wantCode fails the test unless err has the code want.
func wantCode(tb testing.TB, err error, want allot.ErrorCode) {
	tb.Helper()
	if got := allot.ErrorCodeOf(err); got != want {
		tb.Fatalf("got error %v (code %q), want code %q", err, got, want)
	}
}

// sameTime reports whether got is want, in UTC.
func sameTime(got, want time.Time) bool {
	return got.Equal(want) && got.Location() == time.UTC
}

// checkProject fails the test unless got equals want in every field.
func checkProject(tb testing.TB, got, want allot.Project) {
	tb.Helper()
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		tb.Errorf("project %s: CreatedAt: got %v, want %v", want.ID, got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt = want.CreatedAt
	if got != want {
		tb.Errorf("project %s:\n got %+v\nwant %+v", want.ID, got, want)
	}
}

// checkResource fails the test unless got equals want in every field the
// caller supplies; Seq and Version are the store's and are not compared.
func checkResource(tb testing.TB, got, want allot.Resource) {
	tb.Helper()
	if !sameTime(got.ExpireTime, want.ExpireTime) {
		tb.Errorf("resource %s/%s: ExpireTime: got %v, want %v", want.ProjectID, want.ResourceID, got.ExpireTime, want.ExpireTime)
	}
	got.ExpireTime = want.ExpireTime
	got.Seq, got.Version = want.Seq, want.Version
	if !reflect.DeepEqual(got, want) {
		tb.Errorf("resource %s/%s:\n got %+v bound %+v\nwant %+v bound %+v",
			want.ProjectID, want.ResourceID, got, got.BoundAsset, want, want.BoundAsset)
	}
}

// checkAssignment is checkResource for allocation records.
func checkAssignment(tb testing.TB, got, want allot.Assignment) {
	tb.Helper()
	if !sameTime(got.AllocateTime, want.AllocateTime) || !sameTime(got.ExpireTime, want.ExpireTime) {
		tb.Errorf("assignment %s: times: got %v, %v, want %v, %v",
			want.RecordID, got.AllocateTime, got.ExpireTime, want.AllocateTime, want.ExpireTime)
	}
	got.AllocateTime, got.ExpireTime = want.AllocateTime, want.ExpireTime
	got.Seq, got.Version = want.Seq, want.Version
	if got != want {
		tb.Errorf("assignment %s:\n got %+v\nwant %+v", want.RecordID, got, want)
	}
}

// checkResources compares two lists in order.
func checkResources(tb testing.TB, got, want []allot.Resource) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d resources %v, want %d %v", len(got), resourceIDs(got), len(want), resourceIDs(want))
	}
	for i := range want {
		checkResource(tb, got[i], want[i])
	}
}

// checkAssignments compares two lists in order.
func checkAssignments(tb testing.TB, got, want []allot.Assignment) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d assignments %v, want %d %v", len(got), recordIDs(got), len(want), recordIDs(want))
	}
	for i := range want {
		checkAssignment(tb, got[i], want[i])
	}
}

func resourceIDs(rs []allot.Resource) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ProjectID + "/" + r.ResourceID
	}
	return ids
}

func recordIDs(as []allot.Assignment) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.RecordID
	}
	return ids
}
