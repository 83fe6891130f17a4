package postgres_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/postgres"
	"github.com/allot-dev/allot/postgres/pgtest"
	"github.com/allot-dev/allot/storetest"
)

// meter is one consume-like operation, written against allot.Tx the way
// the domain's consume is (read the key, read the package, save it, append
// the entry, save the key), so that it walks the fast path's every shortcut.
// Sabotage makes one of its writes break a CHECK constraint the domain
// would never break: "usage" saves the package over its amount, "ledger"
// appends an entry of an unknown operation; "refuse" refuses the operation
// after all its writes, which must then be undone. "reset" is no sabotage:
// it sets the package's usage to zero, whatever it was.
type meter struct {
	project, resource, key string
	amount                 int64
	sabotage               string
	// fresh: the key is saved without being read first, as allot's first
	// attempt of a consume or a reservation step does; a key there already
	// refuses the save.
	fresh bool
}

// fn returns the operation; *answer receives what it would tell a client.
func (m meter) fn(answer *string) func(allot.Tx) error {
	return func(tx allot.Tx) error {
		*answer = ""
		fp := fmt.Sprintf("%s/%d", m.resource, m.amount)
		var rec allot.IdempotencyRecord
		var ok bool
		var err error
		if !m.fresh {
			rec, ok, err = tx.Idempotency(m.project, m.key)
		}
		if err != nil {
			return err
		}
		if ok {
			if rec.Fingerprint != fp {
				return allot.Errorf(allot.ECONFLICT, "key %s was used for %s", m.key, rec.Fingerprint)
			}
			*answer = "replayed: " + string(rec.Result)
			return nil
		}
		r, err := tx.Resource(m.project, m.resource)
		if err != nil {
			return err
		}
		amount := allot.Quantity(m.amount * allot.QuantityScale)
		if r.Remaining() < amount && m.sabotage != "reset" {
			return allot.Errorf(allot.ECONFLICT, "%s has %s left, fewer than %s", m.resource, r.Remaining(), amount)
		}
		r.Usage += amount
		switch m.sabotage {
		case "usage":
			r.Usage = r.Amount + 1
		case "reset":
			r.Usage = 0
		}
		if err := tx.SaveResource(&r); err != nil {
			return err
		}
		e := allot.LedgerEntry{ProjectID: m.project, ResourceID: m.resource, Actor: "test", Op: allot.OpConsume,
			UsageDelta: amount, IdempotencyKey: m.key, At: tx.Now()}
		if m.sabotage == "ledger" {
			e.Op = "bogus"
		}
		if err := tx.AppendLedger(&e); err != nil {
			return err
		}
		result := fmt.Sprintf("usage %s, version %d, entry %d", r.Usage, r.Version, e.Seq)
		if err := tx.SaveIdempotency(allot.IdempotencyRecord{ProjectID: m.project, Key: m.key, Fingerprint: fp,
			Result: []byte(result)}); err != nil {
			return err
		}
		if m.sabotage == "refuse" {
			return allot.Errorf(allot.ECONFLICT, "refused after writing")
		}
		*answer = result
		return nil
	}
}

// outcome is what one operation told its client.
type outcome struct {
	Answer string
	Err    string
}

// TestGroupFastPath holds the fast path of a group (resources and absent
// keys kept in memory, writes queued, keys guessed absent) to the slow path
// run one operation at a time on a fresh schema: every operation of every
// group gets the answer it gets alone, and the stores end equal. The groups
// mix consumes that succeed, consumes refused by the rule (not enough
// left), replays of a key in the same group and from an earlier one, a key
// reused for another request, a refused consume whose key exists (its answer
// rests on a guessed read), and writes that fail in the database, after the
// operation that made them has returned.
func TestGroupFastPath(t *testing.T) {
	groups := []struct {
		name string
		ops  []meter
		// runs is the transactions the group takes: slow, fast (keys
		// read), guessing keys.
		runs [3]uint64
	}{
		{"fresh keys, replays and refusals in one group", []meter{
			{project: "p-1", resource: "r-1", key: "k1", amount: 2},
			{project: "p-1", resource: "r-1", key: "k2", amount: 2},
			{project: "p-1", resource: "r-1", key: "k1", amount: 2}, // replay of a key saved in this group
			{project: "p-1", resource: "r-2", key: "k3", amount: 5}, // refused: 3 left
			{project: "p-1", resource: "r-1", key: "k2", amount: 3}, // k2 was used for another request
			{project: "p-2", resource: "r-1", key: "k1", amount: 1}, // the same key in another project
			{project: "p-1", resource: "r-2", key: "k3", amount: 1}, // k3 was refused, so it was not kept
			{project: "p-1", resource: "r-1", key: "k5", amount: 100},
			{project: "p-1", resource: "r-1", key: "k5", amount: 1},
			{project: "p-1", resource: "r-1", key: "k15", amount: 1, sabotage: "refuse"},
			{project: "p-1", resource: "r-1", key: "k15", amount: 2},                     // k15 was not kept, nor its usage
			{project: "p-2", resource: "r-2", key: "k16", amount: 1, sabotage: "refuse"}, // p-2's lock and all undone
			{project: "p-2", resource: "r-2", key: "k16", amount: 3},
		}, [3]uint64{0, 0, 1}},
		{"replays of an earlier group", []meter{
			{project: "p-1", resource: "r-1", key: "k6", amount: 1},
			{project: "p-1", resource: "r-1", key: "k1", amount: 2},
			{project: "p-2", resource: "r-2", key: "k7", amount: 4},
			{project: "p-1", resource: "r-2", key: "k8", amount: 2},
			{project: "p-1", resource: "r-2", key: "k9", amount: 1}, // refused: nothing left
			{project: "p-2", resource: "r-1", key: "k1", amount: 2}, // another request than k1's of p-2
		}, [3]uint64{0, 1, 1}},
		{"writes that fail in the database", []meter{
			{project: "p-1", resource: "r-1", key: "k10", amount: 1},
			{project: "p-1", resource: "r-1", key: "k11", amount: 1, sabotage: "usage"},
			{project: "p-1", resource: "r-1", key: "k12", amount: 1},
			{project: "p-2", resource: "r-1", key: "k13", amount: 1, sabotage: "ledger"},
			{project: "p-2", resource: "r-1", key: "k14", amount: 1},
			{project: "p-1", resource: "r-1", key: "k1", amount: 2},
			{project: "p-1", resource: "r-1", key: "k11", amount: 1}, // k11 failed, so it was not kept
		}, [3]uint64{1, 0, 1}},
		{"a refusal whose key exists, of a package the group knows", []meter{
			{project: "p-2", resource: "r-1", key: "k18", amount: 1},
			{project: "p-2", resource: "r-1", key: "k1", amount: 100}, // k1 was used for another request
		}, [3]uint64{0, 1, 1}},
		{"a refusal whose key exists", []meter{
			{project: "p-1", resource: "r-2", key: "k8", amount: 2}, // r-2 has nothing left, but k8 replays
			{project: "p-2", resource: "r-2", key: "k7", amount: 4}, // k7 was refused: refused again
		}, [3]uint64{0, 1, 1}},
		{"a lone replay", []meter{
			{project: "p-2", resource: "r-1", key: "k14", amount: 1},
		}, [3]uint64{0, 1, 1}},
		{"a package written again and again", []meter{
			{project: "p-1", resource: "r-1", key: "k22", amount: 1},
			{project: "p-1", resource: "r-1", key: "k23", amount: 2},
			{project: "p-1", resource: "r-1", key: "k24", amount: 1, sabotage: "reset"},
			{project: "p-1", resource: "r-1", key: "k25", amount: 3},
		}, [3]uint64{0, 0, 1}},
		{"keys saved without a lookup", []meter{
			{project: "p-1", resource: "r-1", key: "k26", amount: 1, fresh: true},
			{project: "p-1", resource: "r-1", key: "k26", amount: 1, fresh: true}, // saved in this group: refused
			{project: "p-2", resource: "r-1", key: "k27", amount: 1, fresh: true},
			{project: "p-2", resource: "r-1", key: "k27", amount: 1}, // replay of a key saved in this group
			{project: "p-1", resource: "r-1", key: "k28", amount: 1, fresh: true, sabotage: "refuse"},
			{project: "p-1", resource: "r-1", key: "k28", amount: 1, fresh: true}, // the refused one was not kept
		}, [3]uint64{0, 0, 1}},
		{"a key saved without a lookup that exists", []meter{
			{project: "p-1", resource: "r-1", key: "k29", amount: 1, fresh: true},
			{project: "p-1", resource: "r-1", key: "k26", amount: 1, fresh: true}, // saved by an earlier group: refused
			{project: "p-2", resource: "r-1", key: "k30", amount: 1, fresh: true},
		}, [3]uint64{0, 1, 1}},
		{"a failing write of a package written again", []meter{
			{project: "p-1", resource: "r-1", key: "k19", amount: 1, sabotage: "usage"},
			{project: "p-1", resource: "r-1", key: "k20", amount: 1, sabotage: "reset"},
			{project: "p-1", resource: "r-1", key: "k21", amount: 1},
		}, [3]uint64{1, 0, 1}},
	}

	grouped, alone := openMeterStore(t), openMeterStore(t)
	var got, want [][]outcome
	for _, g := range groups {
		before := postgres.GroupRuns(grouped)
		answers := make([]string, len(g.ops))
		ids := make([][]string, len(g.ops))
		fns := make([]func(allot.Tx) error, len(g.ops))
		for i, m := range g.ops {
			ids[i], fns[i] = []string{m.project}, m.fn(&answers[i])
		}
		deferred, errs := postgres.RunGroup(grouped, ids, fns)
		var gotG, wantG []outcome
		for i, m := range g.ops {
			if deferred[i] {
				t.Fatalf("%s: op %d was put off", g.name, i)
			}
			gotG = append(gotG, outcome{answers[i], errString(errs[i])})
			var answer string
			err := postgres.RunAlone(alone, []string{m.project}, m.fn(&answer))
			wantG = append(wantG, outcome{answer, errString(err)})
		}
		after := postgres.GroupRuns(grouped)
		var runs [3]uint64
		for i := range runs {
			runs[i] = after[i] - before[i]
		}
		if runs != g.runs {
			t.Errorf("%s: %v transactions (slow, fast, guessing), want %v", g.name, runs, g.runs)
		}
		got, want = append(got, gotG), append(want, wantG)
	}
	for i, g := range groups {
		for j := range g.ops {
			if got[i][j] != want[i][j] {
				t.Errorf("%s, op %d %+v: got %+v, alone %+v", g.name, j, g.ops[j], got[i][j], want[i][j])
			}
		}
	}
	// The oracle itself: a few answers written out, so that a fault shared
	// by both paths shows too.
	for _, c := range []struct {
		group, op int
		want      outcome
	}{
		// Created at version 1, imported at 2; two import entries.
		{0, 2, outcome{Answer: "replayed: usage 2, version 3, entry 3"}},
		{0, 3, outcome{Err: "r-2 has 3 left, fewer than 5"}},
		{1, 1, outcome{Answer: "replayed: usage 2, version 3, entry 3"}},
		{3, 1, outcome{Err: "key k1 was used for r-1/1"}},
		{4, 0, outcome{Answer: "replayed: usage 3, version 11, entry 9"}},
	} {
		if g := want[c.group][c.op]; g != c.want {
			t.Errorf("alone, %s op %d: %+v, want %+v", groups[c.group].name, c.op, g, c.want)
		}
	}
	for _, p := range []string{"p-1", "p-2"} {
		if g, w := meterState(t, grouped, p), meterState(t, alone, p); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: grouped\n%+v\nalone\n%+v", p, g, w)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return allot.ErrorMessageOf(err)
}

var meterEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// openMeterStore opens a fresh schema with projects p-1 and p-2, each with
// packages r-1 (10 units) and r-2 (3 units), on a fixed clock.
func openMeterStore(t *testing.T) *postgres.Store {
	s := pgtest.MustOpen(t)
	s.Now = func() time.Time { return meterEpoch }
	var rs []allot.Resource
	for _, p := range []string{"p-1", "p-2"} {
		storetest.MustCreateProject(t, s, storetest.NewProject(p, ""))
		for i, amount := range []int64{10, 3} {
			r := storetest.NewResource(p, fmt.Sprint("r-", i+1))
			r.Amount, r.Usage = allot.Quantity(amount*allot.QuantityScale), 0
			rs = append(rs, r)
		}
	}
	storetest.MustImport(t, s, allot.ImportBatch{Resources: rs})
	return s
}

// state is what a project holds, as the store's reads return it.
type state struct {
	Delta   allot.TenantDelta
	Entries []allot.LedgerEntry
	Records map[string]allot.IdempotencyRecord
}

func meterState(t *testing.T, s *postgres.Store, project string) state {
	t.Helper()
	ctx := context.Background()
	d, err := s.TenantChanges(ctx, project, 0)
	if err != nil {
		t.Fatal(err)
	}
	es, _, err := s.LedgerEntries(ctx, allot.LedgerQuery{ProjectID: project, Page: allot.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string]allot.IdempotencyRecord{}
	err = postgres.RunAlone(s, []string{project}, func(tx allot.Tx) error {
		for i := range 40 {
			key := fmt.Sprint("k", i)
			if rec, ok, err := tx.Idempotency(project, key); err != nil {
				return err
			} else if ok {
				recs[key] = rec
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return state{d, es, recs}
}

// TestHotProjectOneGroup: concurrent Updates of one project run one group at
// a time, however many leaders the store allows (a second group would only
// wait for the first one's row lock), and every one of them is answered as
// a model of the package says: the first ten of amount 1 succeed, in any
// order, the rest find nothing left, and the package's usage is theirs.
func TestHotProjectOneGroup(t *testing.T) {
	s := openMeterStore(t)
	most, leaders := postgres.WatchGroups(s)
	if leaders < 2 {
		t.Fatalf("the store allows %d leaders: the test needs at least 2", leaders)
	}
	const n = 64
	answers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := meter{project: "p-1", resource: "r-1", key: fmt.Sprint("hot-", i), amount: 1}
			errs[i] = s.Update(context.Background(), []string{"p-1"}, m.fn(&answers[i]))
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case allot.ErrorCodeOf(err) != allot.ECONFLICT:
			t.Errorf("op %d: %v", i, err)
		}
	}
	if ok != 10 {
		t.Errorf("%d consumes succeeded, want 10 (the package's amount)", ok)
	}
	consumed := 0
	for _, e := range meterState(t, s, "p-1").Entries {
		if e.Op == allot.OpConsume {
			consumed++
		}
	}
	if consumed != ok {
		t.Errorf("%d consume entries in the ledger, want %d", consumed, ok)
	}
	if m := most(); m != 1 {
		t.Errorf("%d groups of one project in flight at once, want 1", m)
	}
}
