package storetest

import (
	"fmt"
	"time"

	"github.com/allot-dev/allot"
)

// mStep is one request of a model run with what the model expects of it.
type mStep struct {
	desc string
	call func() (allot.OpResult, error)
	// want is the error code the model expects; "" for a success.
	want allot.ErrorCode
	// apply changes the model after a success and returns what the answer
	// must hold: the package it names, its allocation record (nil if the
	// answer has none) and the ledger entries written, in order.
	apply func(out allot.OpResult) (*mResource, *mAssignment, []mEntry)
	// vary sends the same idempotency key with other terms; nil for an
	// operation without a key.
	vary func() (allot.OpResult, error)
	// replay is set for a retry: the earlier answer it must get back.
	replay *mAnswer
}

// refused is a step the model expects to fail with code.
func refused(desc string, code allot.ErrorCode, call func() (allot.OpResult, error)) mStep {
	return mStep{desc: desc, call: call, want: code}
}

// generate picks the next step. Its choices depend only on the model and
// the random source, so a seed always replays the same sequence.
func (m *modelRun) generate() mStep {
	for {
		var s mStep
		ok := true
		switch w := m.pick(100); {
		case w < 10:
			s = m.addPackage(allot.SourcePurchased)
		case w < 16:
			s = m.addPackage(allot.SourceAdminAllocated)
		case w < 32:
			s = m.allocate()
		case w < 46:
			s, ok = m.consumeByID()
		case w < 56:
			s = m.consumeByType()
		case w < 62:
			s, ok = m.reclaim(false)
		case w < 65:
			s, ok = m.reclaim(true)
		case w < 70:
			s, ok = m.refund()
		case w < 76:
			s, ok = m.setStatus()
		case w < 82:
			s, ok = m.reserve()
		case w < 86:
			s, ok = m.commit()
		case w < 88:
			s, ok = m.release()
		case w < 95:
			s, ok = m.retry()
		default:
			s, ok = m.conflict()
		}
		if ok {
			return s
		}
	}
}

func (m *modelRun) addPackage(source allot.ResourceSource) mStep {
	n := m.next()
	project := pickOf(m, modelProjects)
	switch {
	case m.chance(3):
		project = "ghost"
	case m.chance(35):
		project = pickOf(m, modelSPs) // the pools allocations draw from
	}
	req := allot.PackageRequest{ProjectID: project, ResourceID: fmt.Sprintf("r-%d", n), Source: source,
		ResourceType: pickOf(m, modelTypes), BusinessType: "VIDEO_2D", ChargingMode: "PERIODIC", Unit: "MIN",
		Amount: m.quantity(40), ExpireTime: pickOf(m, m.expiries)}
	if m.chance(30) {
		p := m.pick(3)
		req.Priority = &p
	}
	op := allot.OpPurchase
	if source == allot.SourcePurchased {
		req.OrderID = fmt.Sprintf("o-%d", n)
	} else {
		op, req.IdempotencyKey = allot.OpAdminGrant, fmt.Sprintf("k-%d", n)
	}
	taken := m.resource(project)
	if taken != nil && m.chance(5) {
		req.ResourceID = taken.id // a new order for an id the project holds
	}
	actor, isAdmin := m.adminOr()
	call := func() (allot.OpResult, error) { return m.env.svc.AddPackage(m.env.ctx, actor, req) }
	desc := fmt.Sprintf("AddPackage(%s, %+v)", actor.ID, req)
	switch {
	case !isAdmin:
		return refused(desc, allot.EFORBIDDEN, call)
	case project == "ghost":
		return refused(desc, allot.ENOTFOUND, call)
	case m.find(project, req.ResourceID) != nil:
		return refused(desc, allot.ECONFLICT, call)
	}
	vary := req
	vary.Amount += allot.QuantityScale
	return mStep{desc: desc, call: call,
		vary: func() (allot.OpResult, error) { return m.env.svc.AddPackage(m.env.ctx, actor, vary) },
		apply: func(allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			r := &mResource{project: project, id: req.ResourceID, rtype: req.ResourceType, source: source,
				amount: req.Amount, status: allot.StatusNormal, expire: req.ExpireTime}
			if req.Priority != nil {
				r.priority = *req.Priority
			}
			m.add(r)
			return r, nil, []mEntry{{project: project, resource: r.id, actor: actor.ID, op: op, amount: req.Amount,
				key: req.IdempotencyKey, ref: req.OrderID}}
		}}
}

func (m *modelRun) allocate() mStep {
	sp := pickOf(m, modelSPs)
	var customers []string
	for c, owner := range modelCustomers {
		if owner == sp {
			customers = append(customers, c)
		}
	}
	customer := pickOf(m, sortedStrings(customers))
	if m.chance(8) {
		customer = pickOf(m, []string{"lone", "cb-1", "ca-1", "sp-a", "sp-b"}) // perhaps not sp's
	}
	req := allot.AllocateRequest{SPProjectID: sp, CustomerProjectID: customer, ResourceSpecCode: pickOf(m, modelTypes),
		Amount: m.quantity(8), IdempotencyKey: fmt.Sprintf("k-%d", m.next())}
	if m.chance(40) {
		if r := m.resource(sp); r != nil && !m.chance(10) {
			req.SPResourceID = r.id
			req.Amount = m.amountFor(left(r))
		} else {
			req.SPResourceID = "r-none"
		}
	}
	if m.chance(30) {
		req.ExpireTime = pickOf(m, m.expiries)
	}
	actor := admin
	switch w := m.pick(100); {
	case w < 30:
		actor = allot.Actor{ID: "sp-key-" + sp, Role: allot.RoleSP, SPProjectID: sp}
	case w < 38:
		actor = allot.Actor{ID: "sp-key-other", Role: allot.RoleSP, SPProjectID: "sp-other"}
	}
	call := func() (allot.OpResult, error) { return m.env.svc.Allocate(m.env.ctx, actor, req) }
	desc := fmt.Sprintf("Allocate(%s, %+v)", actor.ID, req)
	if actor.Role == allot.RoleSP && actor.SPProjectID != sp {
		return refused(desc, allot.EFORBIDDEN, call)
	}
	if modelCustomers[customer] != sp {
		return refused(desc, allot.EINVALID, call)
	}
	var src *mResource
	if req.SPResourceID != "" {
		src = m.find(sp, req.SPResourceID)
		switch {
		case src == nil:
			return refused(desc, allot.ENOTFOUND, call)
		case src.rtype != req.ResourceSpecCode:
			return refused(desc, allot.EINVALID, call)
		case src.removed:
			return refused(desc, allot.ENOTFOUND, call)
		}
		if code := m.usable(src, req.Amount); code != "" {
			return refused(desc, code, call)
		}
	} else if src = m.best(sp, req.ResourceSpecCode, req.Amount); src == nil {
		return refused(desc, allot.ECONFLICT, call)
	}
	expire := src.expire
	if !req.ExpireTime.IsZero() {
		if !src.expire.IsZero() && req.ExpireTime.After(src.expire) {
			return refused(desc, allot.EINVALID, call)
		}
		expire = req.ExpireTime
	}
	vary := req
	vary.Amount += allot.QuantityScale
	return mStep{desc: desc, call: call,
		vary: func() (allot.OpResult, error) { return m.env.svc.Allocate(m.env.ctx, actor, vary) },
		apply: func(out allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			// The record's id is the store's to choose; the model takes it
			// from the answer, and the checks that follow hold it to it.
			id := out.Resource.ResourceID
			src.usage += req.Amount
			granted := &mResource{project: customer, id: id, rtype: src.rtype, source: allot.SourceSPAllocated,
				amount: req.Amount, status: allot.StatusNormal, expire: expire}
			m.add(granted)
			asgExpire := expire
			if asgExpire.IsZero() {
				asgExpire = time.Unix(allot.MaxUnixSeconds, 0).UTC()
			}
			a := &mAssignment{id: id, sp: sp, customer: customer, spec: req.ResourceSpecCode, spResource: src.id,
				num: req.Amount, expire: asgExpire, order: m.next()}
			m.assignments[id] = a
			m.asgByOrder = append(m.asgByOrder, a)
			return granted, a, []mEntry{
				{project: sp, resource: src.id, actor: actor.ID, op: allot.OpSPGrantOut, usage: req.Amount, key: req.IdempotencyKey, ref: id},
				{project: customer, resource: id, actor: actor.ID, op: allot.OpSPGrantIn, amount: req.Amount, key: req.IdempotencyKey, ref: id},
			}
		}}
}

// addUsage is the model of a change of usage by delta on r, with its
// allocation record.
func (m *modelRun) addUsage(r *mResource, actor allot.Actor, op allot.Op, delta allot.Quantity, key, reason string) (*mResource, *mAssignment, []mEntry) {
	r.usage += delta
	a := m.assignmentOf(r)
	if a != nil {
		a.used += delta
	}
	return r, a, []mEntry{{project: r.project, resource: r.id, actor: actor.ID, op: op, usage: delta, key: key, reason: reason}}
}

func (m *modelRun) consumeByID() (mStep, bool) {
	project := pickOf(m, modelProjects)
	r := m.resource(project)
	if r == nil || m.chance(5) {
		r = m.resource("") // perhaps another project's package
	}
	if r == nil {
		return mStep{}, false
	}
	req := allot.ConsumeRequest{ProjectID: project, ResourceID: r.id, Amount: m.amountFor(left(r)),
		IdempotencyKey: fmt.Sprintf("k-%d", m.next())}
	actor, isAdmin := m.adminOr()
	call := func() (allot.OpResult, error) { return m.env.svc.Consume(m.env.ctx, actor, req) }
	desc := fmt.Sprintf("Consume(%s, %+v)", actor.ID, req)
	if !isAdmin {
		return refused(desc, allot.EFORBIDDEN, call), true
	}
	if r = m.find(project, r.id); r == nil || r.removed {
		return refused(desc, allot.ENOTFOUND, call), true
	}
	if code := m.usable(r, req.Amount); code != "" {
		return refused(desc, code, call), true
	}
	return m.consumeStep(desc, call, actor, req, r), true
}

func (m *modelRun) consumeByType() mStep {
	project := pickOf(m, modelProjects)
	req := allot.ConsumeRequest{ProjectID: project, ResourceType: pickOf(m, modelTypes), Amount: m.quantity(10),
		IdempotencyKey: fmt.Sprintf("k-%d", m.next()), AllowSplit: m.chance(40)}
	if m.chance(30) {
		req.UserID = fmt.Sprintf("user-%d", m.pick(3))
	}
	if req.AllowSplit && m.chance(50) {
		req.Amount = m.quantity(40) // more than most packages have left
	}
	actor, isAdmin := m.adminOr()
	call := func() (allot.OpResult, error) { return m.env.svc.Consume(m.env.ctx, actor, req) }
	desc := fmt.Sprintf("Consume(%s, %+v)", actor.ID, req)
	if !isAdmin {
		return refused(desc, allot.EFORBIDDEN, call)
	}
	parts := m.draw(project, req.ResourceType, req.Amount, req.AllowSplit)
	if parts == nil {
		return refused(desc, allot.ECONFLICT, call)
	}
	if len(parts) == 1 {
		return m.consumeStep(desc, call, actor, req, parts[0].r)
	}
	vary := req
	vary.Amount += allot.QuantityScale / 4
	return mStep{desc: desc, call: call,
		vary: func() (allot.OpResult, error) { return m.env.svc.Consume(m.env.ctx, actor, vary) },
		apply: func(out allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			// The entries' shared ref is the store's to choose: the model
			// takes it from the answer and holds every entry to it.
			ref := ""
			if len(out.Entries) > 0 {
				ref = out.Entries[0].Ref
			}
			var es []mEntry
			var first *mAssignment
			for i, p := range parts {
				_, a, e := m.addUsage(p.r, actor, allot.OpConsume, p.amount, req.IdempotencyKey, "")
				e[0].ref, e[0].user = ref, req.UserID
				es = append(es, e...)
				if i == 0 {
					first = a
				}
			}
			if ref == "" {
				es[0].ref = "(no ref)" // a split's entries must be linked
			}
			return parts[0].r, first, es
		}}
}

func (m *modelRun) consumeStep(desc string, call func() (allot.OpResult, error), actor allot.Actor, req allot.ConsumeRequest, r *mResource) mStep {
	vary := req
	vary.Amount += allot.QuantityScale / 4
	return mStep{desc: desc, call: call,
		vary: func() (allot.OpResult, error) { return m.env.svc.Consume(m.env.ctx, actor, vary) },
		apply: func(allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			r, a, es := m.addUsage(r, actor, allot.OpConsume, req.Amount, req.IdempotencyKey, "")
			es[0].user = req.UserID
			return r, a, es
		}}
}

func (m *modelRun) refund() (mStep, bool) {
	r := m.resource("")
	if r == nil {
		return mStep{}, false
	}
	amount := m.quantity(4)
	switch {
	case r.usage > 0 && m.chance(50):
		amount = max(r.usage/allot.Quantity(1+m.pick(3)), 1)
	case m.chance(15):
		amount = r.usage + 1 // just over what was used
	}
	req := allot.RefundRequest{ResourceRef: allot.ResourceRef{ProjectID: r.project, ResourceID: r.id}, Amount: amount,
		Reason: "metering correction", IdempotencyKey: fmt.Sprintf("k-%d", m.next())}
	actor, isAdmin := m.adminOr()
	call := func() (allot.OpResult, error) { return m.env.svc.Refund(m.env.ctx, actor, req) }
	desc := fmt.Sprintf("Refund(%s, %+v)", actor.ID, req)
	switch {
	case !isAdmin:
		return refused(desc, allot.EFORBIDDEN, call), true
	case r.removed:
		return refused(desc, allot.ENOTFOUND, call), true
	case amount > r.usage-m.givenAway(r):
		// More than was used, or than the SP package metered itself: its
		// customers' units come back only by a reclaim.
		return refused(desc, allot.ECONFLICT, call), true
	}
	vary := req
	vary.Reason = "another correction"
	return mStep{desc: desc, call: call,
		vary: func() (allot.OpResult, error) { return m.env.svc.Refund(m.env.ctx, actor, vary) },
		apply: func(allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			return m.addUsage(r, actor, allot.OpRefund, -amount, req.IdempotencyKey, req.Reason)
		}}, true
}

// reclaim takes back part or all of a package's unused units, or with
// cancel cancels it.
func (m *modelRun) reclaim(cancel bool) (mStep, bool) {
	r := m.resource("")
	if r == nil {
		return mStep{}, false
	}
	req := allot.ReclaimRequest{ResourceRef: allot.ResourceRef{ProjectID: r.project, ResourceID: r.id}, Cancel: cancel,
		IdempotencyKey: fmt.Sprintf("k-%d", m.next())}
	if m.chance(50) {
		req.Reason = "taken back"
	}
	if !cancel && m.chance(60) {
		amount := m.amountFor(left(r))
		req.Amount = &amount
	}
	actor := admin
	if m.chance(40) {
		actor = pickOf(m, []allot.Actor{spA, spB})
	}
	if r.removed && actor.Role != allot.RoleAdmin {
		// Which of "gone" and "not yours" comes first is not a rule the
		// model holds the service to.
		actor = admin
	}
	call := func() (allot.OpResult, error) { return m.env.svc.Reclaim(m.env.ctx, actor, req) }
	desc := fmt.Sprintf("Reclaim(%s, %+v, amount %v)", actor.ID, req, req.Amount)
	a := m.assignmentOf(r)
	if r.removed {
		return refused(desc, allot.ENOTFOUND, call), true
	}
	if actor.Role != allot.RoleAdmin && (a == nil || a.sp != actor.SPProjectID) {
		return refused(desc, allot.EFORBIDDEN, call), true
	}
	if cancel && r.held > 0 {
		return refused(desc, allot.ECONFLICT, call), true
	}
	take := left(r)
	if req.Amount != nil {
		if *req.Amount > take {
			return refused(desc, allot.ECONFLICT, call), true
		}
		take = *req.Amount
	}
	if take == 0 && !cancel {
		return refused(desc, allot.ECONFLICT, call), true
	}
	op := allot.OpReclaim
	if cancel {
		op = allot.OpCancel
	}
	vary := req
	vary.Reason += " twice"
	return mStep{desc: desc, call: call,
		vary: func() (allot.OpResult, error) { return m.env.svc.Reclaim(m.env.ctx, actor, vary) },
		apply: func(allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			r.amount -= take
			r.removed = cancel || r.amount == 0
			e := mEntry{project: r.project, resource: r.id, actor: actor.ID, op: op, amount: -take, key: req.IdempotencyKey, reason: req.Reason}
			if a == nil {
				return r, nil, []mEntry{e}
			}
			e.ref = a.id
			es := []mEntry{e}
			a.num -= take
			if src := m.find(a.sp, a.spResource); src != nil && take > 0 {
				src.usage -= take
				es = append(es, mEntry{project: a.sp, resource: src.id, actor: actor.ID, op: allot.OpSPReturn, usage: -take,
					key: req.IdempotencyKey, reason: req.Reason, ref: a.id})
			}
			return r, a, es
		}}, true
}

func (m *modelRun) setStatus() (mStep, bool) {
	r := m.resource("")
	if r == nil {
		return mStep{}, false
	}
	status := allot.StatusFrozen
	if m.chance(50) {
		status = allot.StatusNormal
	}
	reason := ""
	if m.chance(50) {
		reason = "audit"
	}
	ref := allot.ResourceRef{ProjectID: r.project, ResourceID: r.id}
	actor, isAdmin := m.adminOr()
	call := func() (allot.OpResult, error) { return m.env.svc.SetStatus(m.env.ctx, actor, ref, status, reason) }
	desc := fmt.Sprintf("SetStatus(%s, %+v, %d, %q)", actor.ID, ref, status, reason)
	switch {
	case !isAdmin:
		return refused(desc, allot.EFORBIDDEN, call), true
	case r.removed:
		return refused(desc, allot.ENOTFOUND, call), true
	}
	return mStep{desc: desc, call: call,
		apply: func(allot.OpResult) (*mResource, *mAssignment, []mEntry) {
			if r.status == status {
				return r, nil, nil // nothing to change, nothing written
			}
			r.status = status
			op := allot.OpFreeze
			if status == allot.StatusNormal {
				op = allot.OpUnfreeze
			}
			return r, nil, []mEntry{{project: r.project, resource: r.id, actor: actor.ID, op: op, reason: reason}}
		}}, true
}

// retry sends an earlier successful request again.
func (m *modelRun) retry() (mStep, bool) {
	if len(m.answers) == 0 {
		return mStep{}, false
	}
	a := pickOf(m, m.answers)
	return mStep{desc: "retry of " + a.desc, call: a.call, replay: a}, true
}

// conflict sends an earlier successful request's key with other terms.
func (m *modelRun) conflict() (mStep, bool) {
	if len(m.answers) == 0 {
		return mStep{}, false
	}
	a := pickOf(m, m.answers)
	return refused("the key, with other terms, of "+a.desc, allot.ECONFLICT, a.vary), true
}

// givenAway returns the units of SP package r that its allocations hold
// now: part of r's usage that r did not meter, which the allocations'
// reclaims give back and no refund may take off.
func (m *modelRun) givenAway(r *mResource) allot.Quantity {
	var q allot.Quantity
	for _, a := range m.asgByOrder {
		if a.sp == r.project && a.spResource == r.id {
			q += a.num
		}
	}
	return q
}
