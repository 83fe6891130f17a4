package allot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"strconv"
	"time"
)

// The once-per-crossing rule, written once for every operation and store.
//
// Every lifecycle operation runs its Update through Service.update, whose
// transaction remembers each package as the operation first read it. When
// the operation succeeds, each package it saved is compared before and
// after: a threshold fires when the remaining amount (amount less usage
// less holds) was strictly above it before and is at or below it after.
// Nothing else fires it, so usage that moves back and forth at or below a
// threshold never sends a second event, and a threshold re-arms only once
// the remaining amount rises strictly above it again. Operations on one
// package are serialized by its project's lock, so before and after are
// exact even under concurrent consumes. The events go into the outbox in
// the same transaction: a rolled-back operation emits none.

// update is Store.Update with the crossing rule applied to what fn changes.
func (s *Service) update(ctx context.Context, projectIDs []string, fn func(Tx) error) error {
	return s.Store.Update(ctx, projectIDs, func(tx Tx) error {
		nt := &noticeTx{Tx: tx}
		if err := fn(nt); err != nil {
			return err
		}
		return nt.emit()
	})
}

// noticeTx is a Tx that remembers the packages an operation reads and saves.
type noticeTx struct {
	Tx
	before map[string]Resource // as first read
	after  map[string]Resource // as last saved
	order  []string            // saved keys, in order
}

func resourceKey(projectID, resourceID string) string { return projectID + "\x00" + resourceID }

func (t *noticeTx) seen(r Resource) {
	if t.before == nil {
		t.before = make(map[string]Resource, 4)
	}
	k := resourceKey(r.ProjectID, r.ResourceID)
	if _, ok := t.before[k]; !ok {
		t.before[k] = r
	}
}

func (t *noticeTx) Resource(projectID, resourceID string) (Resource, error) {
	r, err := t.Tx.Resource(projectID, resourceID)
	if err == nil {
		t.seen(r)
	}
	return r, err
}

func (t *noticeTx) ResourcesOfType(projectID, resourceType string) ([]Resource, error) {
	rs, err := t.Tx.ResourcesOfType(projectID, resourceType)
	for _, r := range rs {
		t.seen(r)
	}
	return rs, err
}

func (t *noticeTx) SaveResource(r *Resource) error {
	isNew := r.Seq == 0
	if err := t.Tx.SaveResource(r); err != nil {
		return err
	}
	if isNew {
		return nil // a new package has crossed nothing
	}
	if t.after == nil {
		t.after = make(map[string]Resource, 4)
	}
	k := resourceKey(r.ProjectID, r.ResourceID)
	if _, ok := t.after[k]; !ok {
		t.order = append(t.order, k)
	}
	t.after[k] = *r
	return nil
}

// emit writes the events of the packages whose remaining amount crossed a
// threshold.
func (t *noticeTx) emit() error {
	configs := map[string][]NoticeConfig{}
	for _, k := range t.order {
		before, ok := t.before[k]
		after := t.after[k]
		if !ok || after.Removed || after.Remaining() >= before.Remaining() {
			continue
		}
		cs, ok := configs[after.ProjectID]
		if !ok {
			var err error
			if cs, err = t.NoticeConfigs(after.ProjectID); err != nil {
				return err
			}
			configs[after.ProjectID] = cs
		}
		var left NoticeConfig
		for _, c := range cs {
			if c.Type == NoticeResourceLeft {
				left = c
			}
		}
		set := left.Settings()
		if p := set.ThresholdPercent; p != nil {
			tb, ta := percentOf(before.Amount, *p), percentOf(after.Amount, *p)
			if crossed(before.Remaining(), tb, after.Remaining(), ta) {
				if err := t.event(after, EventResourceLeft, left.SendMsg, func(ev *Event) { ev.Threshold, ev.ThresholdPct = &ta, p }); err != nil {
					return err
				}
			}
		}
		if a := set.ThresholdAmount; a != nil && crossed(before.Remaining(), *a, after.Remaining(), *a) {
			if err := t.event(after, EventResourceLeft, left.SendMsg, func(ev *Event) { ev.Threshold = a }); err != nil {
				return err
			}
		}
		if crossed(before.Remaining(), 0, after.Remaining(), 0) {
			if err := t.event(after, EventResourceDepleted, left.SendMsg, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// crossed reports whether a remaining amount went from strictly above its
// threshold to at or below it.
func crossed(before, thresholdBefore, after, thresholdAfter Quantity) bool {
	return before > thresholdBefore && after <= thresholdAfter
}

// percentOf returns pct percent of amount (pct a Quantity: 20 is
// 20*QuantityScale), rounded down to the Quantity step.
func percentOf(amount, pct Quantity) Quantity {
	n := new(big.Int).Mul(big.NewInt(int64(amount)), big.NewInt(int64(pct)))
	n.Quo(n, big.NewInt(100*QuantityScale))
	return Quantity(n.Int64())
}

// event writes one event about r to the outbox, with a new id.
func (t *noticeTx) event(r Resource, typ string, sendMsg bool, set func(*Event)) error {
	p, err := t.Project(r.ProjectID)
	if err != nil {
		return err
	}
	ev := resourceEvent(newID("evt-"), typ, t.Now(), p.SPProjectID, r, sendMsg)
	if set != nil {
		set(&ev)
	}
	_, err = insertEvent(t.Tx, ev)
	return err
}

func resourceEvent(id, typ string, at time.Time, sp string, r Resource, sendMsg bool) Event {
	return Event{ID: id, Type: typ, At: at, ProjectID: r.ProjectID, SPProjectID: sp, ResourceID: r.ResourceID,
		ResourceType: r.ResourceType, Amount: r.Amount, Usage: r.Usage, Remaining: r.Remaining(), ExpireTime: r.ExpireTime, SendMsg: sendMsg}
}

// insertEvent encodes ev once: the body every attempt sends.
func insertEvent(tx Tx, ev Event) (bool, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return false, err
	}
	return tx.InsertEvent(ev, body)
}

// ExpiryWindow is how long after its expiry a package can still be
// reported as expired: a configuration set later does not report packages
// that expired long before.
const ExpiryWindow = 7 * 24 * time.Hour

// SweepExpiry writes the expiry events due at now: resource.expiring for
// the smallest days_before whose warning time has come (expiry minus that
// many days is at or before now, and the package has not expired), and
// resource.expired for a package that expired within ExpiryWindow. Each
// (package, days_before) and each expiry fires once: the event id is
// derived from them and the expiry time, and the outbox keeps one event
// per id. A warning whose time passed while a smaller one is due too is
// skipped: a clock that jumps sends only the nearest warning. seen, when
// not nil, remembers the ids written, so a later sweep of the same process
// makes no write for them. It returns how many events it wrote.
func (s *Service) SweepExpiry(ctx context.Context, now time.Time, seen map[string]bool) (int, error) {
	cands, err := s.Store.ExpiryCandidates(ctx, now.Add(-ExpiryWindow), now.AddDate(0, 0, MaxDaysBefore))
	if err != nil {
		return 0, err
	}
	byProject := map[string][]Event{}
	var order []string
	for _, c := range cands {
		r := c.Resource
		if r.Removed || r.ExpireTime.IsZero() {
			continue
		}
		var ev Event
		if !r.ExpireTime.After(now) {
			ev = resourceEvent(expiryEventID(r, EventResourceExpired, 0), EventResourceExpired, now, c.SPProjectID, r, c.Config.SendMsg)
		} else {
			days := 0
			for _, d := range c.Config.Settings().DaysBefore {
				if !r.ExpireTime.AddDate(0, 0, -d).After(now) {
					days = d
					break
				}
			}
			if days == 0 {
				continue
			}
			ev = resourceEvent(expiryEventID(r, EventResourceExpiring, days), EventResourceExpiring, now, c.SPProjectID, r, c.Config.SendMsg)
			ev.DaysBefore = days
		}
		if seen[ev.ID] {
			continue
		}
		if _, ok := byProject[r.ProjectID]; !ok {
			order = append(order, r.ProjectID)
		}
		byProject[r.ProjectID] = append(byProject[r.ProjectID], ev)
	}
	n := 0
	for _, pid := range order {
		evs := byProject[pid]
		wrote := 0
		err := s.Store.Update(ctx, []string{pid}, func(tx Tx) error {
			wrote = 0
			for _, ev := range evs {
				ev.At = tx.Now()
				ok, err := insertEvent(tx, ev)
				if err != nil {
					return err
				}
				if ok {
					wrote++
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += wrote
		if seen != nil {
			for _, ev := range evs {
				seen[ev.ID] = true
			}
		}
	}
	return n, nil
}

// expiryEventID is the stable id of an expiry event: one per package,
// expiry time and days_before (0 for resource.expired).
func expiryEventID(r Resource, typ string, days int) string {
	h := sha256.Sum256([]byte(r.ProjectID + "\x00" + r.ResourceID + "\x00" + typ + "\x00" +
		strconv.Itoa(days) + "\x00" + strconv.FormatInt(r.ExpireTime.Unix(), 10)))
	return "evt-" + hex.EncodeToString(h[:12])
}

// reservationExpired writes reservation.expired for a reservation the
// sweeper expired.
func reservationExpired(tx Tx, v Reservation) error {
	p, err := tx.Project(v.ProjectID)
	if err != nil {
		return err
	}
	ev := Event{ID: newID("evt-"), Type: EventReservationExpired, At: tx.Now(), ProjectID: v.ProjectID, SPProjectID: p.SPProjectID,
		ReservationID: v.ReservationID, Amount: v.Amount}
	if len(v.Holds) > 0 {
		ev.ResourceID = v.Holds[0].ResourceID
	}
	_, err = insertEvent(tx, ev)
	return err
}
