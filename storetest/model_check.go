package storetest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

func sortedStrings(xs []string) []string { return slices.Sorted(slices.Values(xs)) }

// step runs one generated request and checks its answer and then the whole
// store against the model.
func (m *modelRun) step(t *testing.T, i int) {
	t.Helper()
	s := m.generate()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d (ALLOT_MODEL_SEED=%d) step %d: %s: "+format, append([]any{m.seed, m.seed, i, s.desc}, args...)...)
	}
	before := m.versions(t)
	out, err := s.call()
	if m.verbose {
		t.Logf("step %d: %s: %v", i, s.desc, err)
	}
	if got := allot.ErrorCodeOf(err); got != s.want {
		fail("got error %v (code %q), want code %q", err, got, s.want)
	}
	kind := strings.SplitN(s.desc, "(", 2)[0]
	switch {
	case s.replay != nil:
		kind = "retry"
	case s.want != "":
		kind += " refused " + string(s.want)
	}
	m.stats[kind]++
	switch {
	case err != nil:
		// A refused request writes nothing: not even a version moves.
		if after := m.versions(t); !slices.Equal(after, before) {
			fail("refused, yet versions moved from %v to %v", before, after)
		}
	case s.replay != nil:
		if !out.Replayed {
			fail("a retry was not answered as a replay")
		}
		if got, want := answerOf(t, out), answerOf(t, s.replay.first); got != want {
			fail("the retry's answer differs from the first:\n got %s\nwant %s", got, want)
		}
		// Nothing changed: no row is newer than before the retry.
		for i, p := range modelProjects {
			if d := MustTenantChanges(t, m.env.store, p, before[i]); len(d.Resources)+len(d.Assignments) != 0 {
				fail("the retry changed rows of %s: %v %v", p, resourceIDs(d.Resources), recordIDs(d.Assignments))
			}
		}
	default:
		if out.Replayed {
			fail("a new request was answered as a replay")
		}
		r, a, es := s.apply(out)
		m.checkAnswer(fail, out, r, a, es)
		m.checkChanged(t, fail, before, a, es)
		for _, e := range es {
			m.entries[e.project] = append(m.entries[e.project], e)
		}
		if s.vary != nil {
			m.answers = append(m.answers, &mAnswer{desc: s.desc, call: s.call, vary: s.vary, first: out})
		}
	}
	m.checkStore(t, fail)
	if i%100 == 99 {
		if d := mustDrift(t, m.env.l); len(d) != 0 {
			fail("drift: %+v", d)
		}
	}
}

// answerOf is the part of an answer a retry must repeat exactly. Flags
// that tell a first answer from a replay are left out.
func answerOf(t *testing.T, out allot.OpResult) string {
	b, err := json.Marshal(struct {
		Resource   allot.Resource
		Assignment *allot.Assignment
		Entries    []allot.LedgerEntry
	}{out.Resource, out.Assignment, out.Entries})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (m *modelRun) versions(t *testing.T) []int64 {
	vs := make([]int64, len(modelProjects))
	for i, p := range modelProjects {
		vs[i] = MustTenantVersion(t, m.env.store, p)
	}
	return vs
}

type failFunc func(format string, args ...any)

// checkAnswer compares a successful operation's answer with the model.
func (m *modelRun) checkAnswer(fail failFunc, out allot.OpResult, r *mResource, a *mAssignment, es []mEntry) {
	// A reservation step's answer names no package (r is nil): its
	// entries say what it did.
	if r != nil {
		if diff := diffResource(out.Resource, r); diff != "" {
			fail("answer's resource: %s", diff)
		}
	}
	switch {
	case a == nil && out.Assignment != nil:
		fail("answer has assignment %+v, want none", *out.Assignment)
	case a != nil && out.Assignment == nil:
		fail("answer has no assignment, want %+v", *a)
	case a != nil:
		if diff := diffAssignment(*out.Assignment, a); diff != "" {
			fail("answer's assignment: %s", diff)
		}
	}
	got := make([]mEntry, len(out.Entries))
	for i, e := range out.Entries {
		got[i] = entryOf(e)
	}
	if !slices.Equal(got, es) {
		fail("answer's entries:\n got %+v\nwant %+v", got, es)
	}
}

// checkChanged checks what the read model relies on: every row a write
// changed is among the project's changes since the version before it.
func (m *modelRun) checkChanged(t *testing.T, fail failFunc, before []int64, a *mAssignment, es []mEntry) {
	t.Helper()
	since := func(p string) int64 { return before[slices.Index(modelProjects, p)] }
	for _, e := range es {
		d := MustTenantChanges(t, m.env.store, e.project, since(e.project))
		if !slices.ContainsFunc(d.Resources, func(r allot.Resource) bool { return r.ResourceID == e.resource }) {
			fail("%s/%s changed, but is not among the changes after version %d: %v", e.project, e.resource, since(e.project), resourceIDs(d.Resources))
		}
	}
	if a != nil {
		d := MustTenantChanges(t, m.env.store, a.customer, since(a.customer))
		if !slices.ContainsFunc(d.Assignments, func(x allot.Assignment) bool { return x.RecordID == a.id }) {
			fail("assignment %s changed, but is not among %s's changes after version %d", a.id, a.customer, since(a.customer))
		}
	}
}

// checkStore reads every project through the public reads and compares it
// with the model: all rows, removed ones too, in order, and every ledger
// entry.
func (m *modelRun) checkStore(t *testing.T, fail failFunc) {
	t.Helper()
	for _, p := range modelProjects {
		d := MustTenantChanges(t, m.env.store, p, 0)
		var want []*mResource
		for _, r := range m.byOrder {
			if r.project == p {
				want = append(want, r)
			}
		}
		if len(d.Resources) != len(want) {
			fail("%s has %d resources %v, the model %d", p, len(d.Resources), resourceIDs(d.Resources), len(want))
		}
		for i, r := range want {
			if diff := diffResource(d.Resources[i], r); diff != "" {
				fail("%s's resource #%d: %s", p, i, diff)
			}
		}
		var wantA []*mAssignment
		for _, a := range m.asgByOrder {
			if a.customer == p {
				wantA = append(wantA, a)
			}
		}
		if len(d.Assignments) != len(wantA) {
			fail("%s has %d assignments %v, the model %d", p, len(d.Assignments), recordIDs(d.Assignments), len(wantA))
		}
		for i, a := range wantA {
			if diff := diffAssignment(d.Assignments[i], a); diff != "" {
				fail("%s's assignment #%d: %s", p, i, diff)
			}
		}

		es, n, err := m.env.l.LedgerEntries(m.env.ctx, allot.LedgerQuery{ProjectID: p, Page: allot.Page{Limit: len(m.entries[p]) + 10}})
		if err != nil {
			fail("LedgerEntries(%s): %v", p, err)
		}
		got := make([]mEntry, len(es))
		for i, e := range es {
			got[i] = entryOf(e)
		}
		if n != len(m.entries[p]) || !slices.Equal(got, m.entries[p]) {
			fail("%s's ledger (count %d):\n got %+v\nwant %+v", p, n, got, m.entries[p])
		}
	}
}

func entryOf(e allot.LedgerEntry) mEntry {
	return mEntry{project: e.ProjectID, resource: e.ResourceID, actor: e.Actor, op: e.Op, amount: e.AmountDelta,
		usage: e.UsageDelta, held: e.HeldDelta, key: e.IdempotencyKey, reason: e.Reason, ref: e.Ref, user: e.UserID}
}

// diffResource says how got differs from the model's r; "" if it does not.
func diffResource(got allot.Resource, r *mResource) string {
	want := mResource{project: r.project, id: r.id, rtype: r.rtype, source: r.source, amount: r.amount, usage: r.usage,
		held: r.held, priority: r.priority, status: r.status, removed: r.removed, expire: r.expire.UTC(), order: r.order}
	have := mResource{project: got.ProjectID, id: got.ResourceID, rtype: got.ResourceType, source: got.Source,
		amount: got.Amount, usage: got.Usage, held: got.Held, priority: got.Priority, status: got.Status, removed: got.Removed,
		expire: got.ExpireTime, order: r.order}
	if have.expire.Equal(want.expire) {
		have.expire = want.expire
	}
	if have != want {
		return "got " + fmtResource(have) + ", want " + fmtResource(want)
	}
	return ""
}

func fmtResource(r mResource) string {
	b, _ := json.Marshal(map[string]any{"id": r.project + "/" + r.id, "type": r.rtype, "source": r.source,
		"amount": r.amount.String(), "usage": r.usage.String(), "held": r.held.String(), "priority": r.priority, "status": r.status, "removed": r.removed, "expire": r.expire.Format(time.RFC3339)})
	return string(b)
}

func diffAssignment(got allot.Assignment, a *mAssignment) string {
	have := mAssignment{id: got.RecordID, sp: got.SPProjectID, customer: got.CustomerProjectID, spec: got.ResourceSpecCode,
		spResource: got.SPResourceID, num: got.ResourceNum, used: got.ResourceUsedNum, expire: got.ExpireTime, order: a.order}
	if have.expire.Equal(a.expire) {
		have.expire = a.expire
	}
	if have != *a {
		b, _ := json.Marshal(map[string]any{"got": []any{have.id, have.sp, have.customer, have.spec, have.spResource, have.num.String(), have.used.String(), have.expire},
			"want": []any{a.id, a.sp, a.customer, a.spec, a.spResource, a.num.String(), a.used.String(), a.expire}})
		return string(b)
	}
	return ""
}
