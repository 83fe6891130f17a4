package storetest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

// RunModel drives allot.Service over a store with seeded random sequences
// of operations and checks the store after every step against a small
// in-memory model of the ledger written here, independently of the
// domain's code: balances, statuses and removals of every package, the
// allocation records, every ledger entry, and the first answer remembered
// for each idempotency key. The sequences mix purchases, administrator
// grants, SP allocations, consumes by id and by type, partial and full
// reclaims, cancels, refunds, freezes, retries of earlier keys and
// requests the rules refuse. Drift must be empty at the end.
//
// Each seed runs steps steps on its own store. The seeds are fixed, and
// logged when a run fails; ALLOT_MODEL_SEED=n runs seed n alone and
// ALLOT_MODEL_STEPS=n changes the number of steps, to reproduce or to
// search further; ALLOT_MODEL_VERBOSE=1 logs every step.
func RunModel(t *testing.T, open func(t *testing.T) allot.Store, steps int) {
	seeds := []uint64{1, 2, 3, 4}
	if s := os.Getenv("ALLOT_MODEL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ALLOT_MODEL_SEED=%q: %v", s, err)
		}
		seeds = []uint64{n}
	}
	if s := os.Getenv("ALLOT_MODEL_STEPS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("ALLOT_MODEL_STEPS=%q: %v", s, err)
		}
		steps = n
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			m := newModelRun(t, open(t), seed)
			for i := range steps {
				m.step(t, i)
			}
			if d := mustDrift(t, m.env.l); len(d) != 0 {
				t.Fatalf("seed %d: drift after %d steps: %+v", seed, steps, d)
			}
			// What the steps were, to see that a change of the generator
			// still reaches every rule.
			t.Logf("seed %d: %d steps: %v", seed, steps, m.stats)
		})
	}
}

// The model's view of the store: plain values, changed only by the
// model's own rules below.
type (
	mResource struct {
		project, id, rtype string
		source             allot.ResourceSource
		amount, usage      allot.Quantity
		held               allot.Quantity // by open reservations
		priority           int
		status             allot.ResourceStatus
		removed            bool
		expire             time.Time
		order              int // creation order: the store's Seq grows with it
	}
	mAssignment struct {
		id, sp, customer, spec, spResource string
		num, used                          allot.Quantity
		expire                             time.Time
		order                              int
	}
	// mEntry is what the model knows of a ledger entry; Seq and At are the
	// store's.
	mEntry struct {
		project, resource, actor string
		op                       allot.Op
		amount, usage, held      allot.Quantity
		key, reason, ref         string
		user                     string
	}
	// mReservation is an open reservation: its holds, in order.
	mReservation struct {
		id, project, user string
		holds             []mHold
		committed         bool // closed by a commit (else by a release)
	}
	mHold struct {
		r      *mResource
		amount allot.Quantity
	}
	// mAnswer is a request that succeeded with an idempotency key: sent
	// again it must get first back, and sent with other terms (vary) it
	// must be refused.
	mAnswer struct {
		desc  string
		call  func() (allot.OpResult, error)
		vary  func() (allot.OpResult, error)
		first allot.OpResult
	}
)

// The projects of a model run: two service providers, three customers and
// a project of its own.
var (
	modelSPs       = []string{"sp-a", "sp-b"}
	modelCustomers = map[string]string{"ca-1": "sp-a", "ca-2": "sp-a", "cb-1": "sp-b"}
	modelProjects  = []string{"sp-a", "sp-b", "ca-1", "ca-2", "cb-1", "lone"}
	modelTypes     = []string{"type.a", "type.b"}
)

type modelRun struct {
	env  *ledgerEnv
	seed uint64
	rng  *rand.Rand
	now  time.Time
	// expiries offers few distinct times, so that ties in expiry happen.
	expiries    []time.Time
	resources   map[string]*mResource // by project + "/" + id
	byOrder     []*mResource
	assignments map[string]*mAssignment
	asgByOrder  []*mAssignment
	entries     map[string][]mEntry // per project, in order
	answers     []*mAnswer
	open        []*mReservation // open reservations, oldest first
	closed      []*mReservation
	n           int // numbers ids, keys and creation order
	stats       map[string]int
	verbose     bool // log every step: ALLOT_MODEL_VERBOSE=1
}

func newModelRun(t *testing.T, s allot.Store, seed uint64) *modelRun {
	l := mustLedger(t, s)
	m := &modelRun{
		env:  &ledgerEnv{ctx: t.Context(), store: s, l: l, svc: &allot.Service{Store: l}},
		seed: seed, rng: rand.New(rand.NewPCG(seed, 0x616c6c6f74)),
		stats: map[string]int{}, resources: map[string]*mResource{}, assignments: map[string]*mAssignment{}, entries: map[string][]mEntry{},
	}
	m.verbose = os.Getenv("ALLOT_MODEL_VERBOSE") != ""
	m.now = time.Now().UTC().Truncate(time.Second)
	// Expired long ago, twice the same near expiry, a later one, and none.
	m.expiries = []time.Time{Epoch, m.now.AddDate(0, 1, 0), m.now.AddDate(0, 1, 0), m.now.AddDate(1, 0, 0), {}}
	for _, p := range modelProjects {
		MustCreateProject(t, s, NewProject(p, modelCustomers[p]))
	}
	return m
}

func (m *modelRun) next() int { m.n++; return m.n }

func (m *modelRun) pick(n int) int { return m.rng.IntN(n) }

func (m *modelRun) chance(percent int) bool { return m.rng.IntN(100) < percent }

func pickOf[T any](m *modelRun, xs []T) T { return xs[m.pick(len(xs))] }

// quantity returns 1 to max units, sometimes with half a unit more.
func (m *modelRun) quantity(max int) allot.Quantity {
	q := units(int64(1 + m.pick(max)))
	if m.chance(20) {
		q += allot.QuantityScale / 2
	}
	return q
}

// amountFor returns an amount to take from r: mostly what fits, sometimes
// exactly all that is left, sometimes more than that.
func (m *modelRun) amountFor(left allot.Quantity) allot.Quantity {
	switch {
	case left > 0 && m.chance(15):
		return left
	case m.chance(15):
		return left + m.quantity(3)
	}
	return m.quantity(6)
}

// resource picks a package the model knows, removed or not, or nil when
// there are none: of project, or of any project when project is "".
func (m *modelRun) resource(project string) *mResource {
	var own []*mResource
	for _, r := range m.byOrder {
		if project == "" || r.project == project {
			own = append(own, r)
		}
	}
	if len(own) == 0 {
		return nil
	}
	return pickOf(m, own)
}

// adminOr returns the admin, or now and then an SP credential, which the
// admin-only operations refuse.
func (m *modelRun) adminOr() (allot.Actor, bool) {
	if m.chance(5) {
		return pickOf(m, []allot.Actor{spA, spB}), false
	}
	return admin, true
}

// expired is the model's rule: an expiry at or before now.
func (m *modelRun) expired(r *mResource) bool { return !r.expire.IsZero() && !r.expire.After(m.now) }

// left is what r can give: neither used nor held.
func left(r *mResource) allot.Quantity { return r.amount - r.usage - r.held }

// burnOrder is the model's order of a project's usable packages of a type
// for consumption by type: higher priority first, then the earliest expiry,
// no expiry last, then the older package. Packages with nothing left are
// left out.
func (m *modelRun) burnOrder(project, rtype string) []*mResource {
	var rs []*mResource
	for _, r := range m.byOrder {
		if r.project == project && r.rtype == rtype && !r.removed && r.status != allot.StatusFrozen && !m.expired(r) && left(r) > 0 {
			rs = append(rs, r)
		}
	}
	slices.SortStableFunc(rs, func(a, b *mResource) int {
		switch {
		case a.priority != b.priority:
			return b.priority - a.priority
		case a.expire.IsZero() != b.expire.IsZero():
			if a.expire.IsZero() {
				return 1
			}
			return -1
		}
		return a.expire.Compare(b.expire) // equal: byOrder keeps the older first
	})
	return rs
}

// draw is the model's choice of packages for a consume or a reservation by
// type: the first in burn order with the whole amount left; else, with
// split, each in burn order giving all it has left until the amount is
// covered; nil when the packages cannot cover it.
func (m *modelRun) draw(project, rtype string, amount allot.Quantity, split bool) []mHold {
	order := m.burnOrder(project, rtype)
	for _, r := range order {
		if left(r) >= amount {
			return []mHold{{r, amount}}
		}
	}
	if !split {
		return nil
	}
	var hs []mHold
	for _, r := range order {
		take := min(left(r), amount)
		hs = append(hs, mHold{r, take})
		if amount -= take; amount == 0 {
			return hs
		}
	}
	return nil
}

// best is the model's choice of an SP package for an allocation: of those
// not removed, not frozen, not expired and with enough left, the earliest
// expiry first, no expiry last, ties to the older package (allocations do
// not read priorities).
func (m *modelRun) best(project, rtype string, amount allot.Quantity) *mResource {
	var b *mResource
	for _, r := range m.byOrder {
		if r.project != project || r.rtype != rtype || r.removed || r.status == allot.StatusFrozen || m.expired(r) || left(r) < amount {
			continue
		}
		if b == nil {
			b = r
			continue
		}
		switch {
		case r.expire.IsZero() != b.expire.IsZero():
			if !r.expire.IsZero() {
				b = r
			}
		case !r.expire.Equal(b.expire):
			if r.expire.Before(b.expire) {
				b = r
			}
		}
		// Equal expiries: b is older, since byOrder is in creation order.
	}
	return b
}

// usable is why the model refuses to take amount from r: "" if it may.
func (m *modelRun) usable(r *mResource, amount allot.Quantity) allot.ErrorCode {
	switch {
	case r.status == allot.StatusFrozen, m.expired(r), left(r) < amount:
		return allot.ECONFLICT
	}
	return ""
}

func (m *modelRun) add(r *mResource) {
	r.order = m.next()
	m.resources[r.project+"/"+r.id] = r
	m.byOrder = append(m.byOrder, r)
}

func (m *modelRun) find(project, id string) *mResource { return m.resources[project+"/"+id] }

// assignmentOf returns the allocation record behind an SP_ALLOCATED
// package, as the rules find it: by the package's id, for its project.
func (m *modelRun) assignmentOf(r *mResource) *mAssignment {
	if r.source != allot.SourceSPAllocated {
		return nil
	}
	if a := m.assignments[r.id]; a != nil && a.customer == r.project {
		return a
	}
	return nil
}
