package storetest

import (
	"fmt"
	"slices"

	"github.com/allot-dev/allot"
)

// The model of reservations: holds take from what a package has left,
// a commit settles part of them in hold order and gives the rest back, a
// release gives them all back. TTLs are long: expiry is the clock's, which
// the model does not move (RunReservations does).

// asOp carries a reservation step's answer in the model's OpResult: its
// entries (which name the reservation in Ref) and whether it replayed.
func asOp(out allot.ReservationResult, err error) (allot.OpResult, error) {
	return allot.OpResult{Entries: out.Entries, Replayed: out.Replayed}, err
}

func (m *modelRun) reserve() (mStep, bool) {
	project := pickOf(m, modelProjects)
	req := allot.ReserveRequest{ProjectID: project, Amount: m.quantity(10), TTL: 3600, IdempotencyKey: fmt.Sprintf("k-%d", m.next())}
	var target *mResource
	if m.chance(50) {
		if target = m.resource(project); target == nil {
			return mStep{}, false
		}
		req.ResourceID, req.Amount = target.id, m.amountFor(left(target))
	} else {
		req.ResourceType, req.AllowSplit = pickOf(m, modelTypes), m.chance(40)
	}
	if m.chance(30) {
		req.UserID = fmt.Sprintf("user-%d", m.pick(3))
	}
	actor, isAdmin := m.adminOr()
	call := func() (allot.OpResult, error) { return asOp(m.env.svc.Reserve(m.env.ctx, actor, req)) }
	desc := fmt.Sprintf("Reserve(%s, %+v)", actor.ID, req)
	if !isAdmin {
		return refused(desc, allot.EFORBIDDEN, call), true
	}
	var holds []mHold
	if target != nil {
		if target.removed {
			return refused(desc, allot.ENOTFOUND, call), true
		}
		if code := m.usable(target, req.Amount); code != "" {
			return refused(desc, code, call), true
		}
		holds = []mHold{{target, req.Amount}}
	} else if holds = m.draw(project, req.ResourceType, req.Amount, req.AllowSplit); holds == nil {
		return refused(desc, allot.ECONFLICT, call), true
	}
	vary := req
	vary.Amount += allot.QuantityScale / 4
	return mStep{desc: desc, call: call,
		vary: func() (allot.OpResult, error) { return asOp(m.env.svc.Reserve(m.env.ctx, actor, vary)) },
		apply: func(out allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			// The reservation's id is the store's to choose: the model
			// takes it from the first entry and holds every entry to it.
			id := "(none)"
			if len(out.Entries) > 0 {
				id = out.Entries[0].Ref
			}
			v := &mReservation{id: id, project: project, user: req.UserID, holds: holds}
			m.open = append(m.open, v)
			var es []mEntry
			for _, h := range holds {
				h.r.held += h.amount
				es = append(es, mEntry{project: project, resource: h.r.id, actor: actor.ID, op: allot.OpReserve, held: h.amount,
					key: req.IdempotencyKey, ref: id, user: req.UserID})
			}
			return nil, nil, es
		}}, true
}

func (v *mReservation) total() allot.Quantity {
	var q allot.Quantity
	for _, h := range v.holds {
		q += h.amount
	}
	return q
}

// close moves v from the open reservations to the closed ones.
func (m *modelRun) close(v *mReservation, committed bool) {
	m.open = slices.DeleteFunc(m.open, func(x *mReservation) bool { return x == v })
	v.committed = committed
	m.closed = append(m.closed, v)
}

func (m *modelRun) commit() (mStep, bool) {
	key := fmt.Sprintf("k-%d", m.next())
	if len(m.closed) > 0 && (len(m.open) == 0 || m.chance(10)) {
		v := pickOf(m, m.closed)
		req := allot.CommitRequest{ReservationID: v.id, Amount: 0, IdempotencyKey: key}
		return refused(fmt.Sprintf("Commit(closed %+v)", req), allot.ECONFLICT,
			func() (allot.OpResult, error) { return asOp(m.env.svc.Commit(m.env.ctx, admin, req)) }), true
	}
	if len(m.open) == 0 {
		return mStep{}, false
	}
	v := pickOf(m, m.open)
	total := v.total()
	amount := allot.Quantity(m.rng.Int64N(int64(total) + 1))
	switch {
	case m.chance(15):
		amount = total
	case m.chance(10):
		amount = total + 1
	}
	req := allot.CommitRequest{ReservationID: v.id, Amount: amount, IdempotencyKey: key}
	actor, isAdmin := m.adminOr()
	call := func() (allot.OpResult, error) { return asOp(m.env.svc.Commit(m.env.ctx, actor, req)) }
	desc := fmt.Sprintf("Commit(%s, %+v)", actor.ID, req)
	switch {
	case !isAdmin:
		return refused(desc, allot.EFORBIDDEN, call), true
	case amount > total:
		return refused(desc, allot.EINVALID, call), true
	}
	vary := req
	vary.Amount = (amount + 1) % (total + 1)
	return mStep{desc: desc, call: call,
		vary: func() (allot.OpResult, error) { return asOp(m.env.svc.Commit(m.env.ctx, actor, vary)) },
		apply: func(allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			m.close(v, true)
			rest := amount
			var es []mEntry
			for _, h := range v.holds {
				take := min(h.amount, rest)
				rest -= take
				h.r.held -= h.amount
				h.r.usage += take
				if a := m.assignmentOf(h.r); a != nil {
					a.used += take
				}
				es = append(es, mEntry{project: v.project, resource: h.r.id, actor: actor.ID, op: allot.OpCommit, usage: take,
					held: -h.amount, key: key, ref: v.id, user: v.user})
			}
			return nil, nil, es
		}}, true
}

func (m *modelRun) release() (mStep, bool) {
	var committed []*mReservation
	for _, v := range m.closed {
		if v.committed {
			committed = append(committed, v)
		}
	}
	if len(committed) > 0 && (len(m.open) == 0 || m.chance(10)) {
		req := allot.ReleaseRequest{ReservationID: pickOf(m, committed).id}
		return refused(fmt.Sprintf("Release(committed %+v)", req), allot.ECONFLICT,
			func() (allot.OpResult, error) { return asOp(m.env.svc.Release(m.env.ctx, admin, req)) }), true
	}
	if len(m.open) == 0 {
		return mStep{}, false
	}
	v := pickOf(m, m.open)
	req := allot.ReleaseRequest{ReservationID: v.id}
	actor, isAdmin := m.adminOr()
	call := func() (allot.OpResult, error) { return asOp(m.env.svc.Release(m.env.ctx, actor, req)) }
	desc := fmt.Sprintf("Release(%s, %+v)", actor.ID, req)
	if !isAdmin {
		return refused(desc, allot.EFORBIDDEN, call), true
	}
	return mStep{desc: desc, call: call,
		apply: func(allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			m.close(v, false)
			var es []mEntry
			for _, h := range v.holds {
				h.r.held -= h.amount
				es = append(es, mEntry{project: v.project, resource: h.r.id, actor: actor.ID, op: allot.OpRelease,
					held: -h.amount, ref: v.id, user: v.user})
			}
			return nil, nil, es
		}}, true
}
