package allot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// ReservationState is where a reservation is in its life: open until it is
// committed, released, or expired by the sweeper.
type ReservationState string

const (
	ReservationOpen      ReservationState = "open"
	ReservationCommitted ReservationState = "committed"
	ReservationReleased  ReservationState = "released"
	ReservationExpired   ReservationState = "expired"
)

// ReservationStates lists every state.
var ReservationStates = []ReservationState{ReservationOpen, ReservationCommitted, ReservationReleased, ReservationExpired}

// SystemActor is the actor of what allot does on its own: the sweeper's
// hold_expired entries.
const SystemActor = "system"

// The bounds of a reservation's TTL, in seconds.
const (
	MinReservationTTL = 1
	MaxReservationTTL = 7 * 24 * 3600
)

// Hold is the part of a reservation one package holds.
type Hold struct {
	ResourceID string   `json:"resource_id"`
	Amount     Quantity `json:"amount"`
	// Committed is what the commit settled of this hold (the rest went
	// back to the package).
	Committed Quantity `json:"committed"`
}

// Reservation is a two-phase consume: units set aside from one or more
// packages (its holds) until a commit settles part of them as usage and
// gives the rest back, a release gives them all back, or the sweeper does
// so after ExpiresAt.
type Reservation struct {
	ReservationID string           `json:"reservation_id"`
	ProjectID     string           `json:"project_id"`
	State         ReservationState `json:"state"`
	Amount        Quantity         `json:"amount"`    // the sum of the holds
	Committed     Quantity         `json:"committed"` // what the commit settled
	Holds         []Hold           `json:"holds"`     // in burn-down order
	CreatedAt     time.Time        `json:"created_at"`
	ExpiresAt     time.Time        `json:"expires_at"`
	// SettledAt is when the reservation left the open state.
	SettledAt      time.Time `json:"settled_at,omitzero"`
	Actor          string    `json:"actor"`
	IdempotencyKey string    `json:"idempotency_key"`
	Attribution
}

// FillLoneHold sets the committed part of a reservation's only hold to the
// reservation's own. Stores write a hold's committed part only when a
// reservation has several holds: with one, it is the reservation's
// committed, and the settle of the common reservation writes one row.
// Each store calls it on every reservation it reads.
func (v *Reservation) FillLoneHold() {
	if len(v.Holds) == 1 {
		v.Holds[0].Committed = v.Committed
	}
}

// SettledHolds are the holds whose committed part a store writes when it
// settles v: every hold of a split reservation, none of one with a single
// hold (see FillLoneHold).
func (v *Reservation) SettledHolds() []Hold {
	if len(v.Holds) == 1 {
		return nil
	}
	return v.Holds
}

// ReservationResult is the answer to a reservation step.
type ReservationResult struct {
	Reservation
	Entries  []LedgerEntry `json:"entries"`
	Replayed bool          `json:"replayed,omitempty"`
	// Created is true when this call made the reservation (201).
	Created bool `json:"-"`
}

// ReservationQuery selects a project's reservations, newest first.
type ReservationQuery struct {
	ProjectID string
	State     ReservationState // optional
	Page      Page
}

// ReserveRequest holds Amount units of one package, or of the project's
// packages of ResourceType, for TTL seconds.
type ReserveRequest struct {
	ProjectID      string   `json:"project_id"`
	ResourceID     string   `json:"resource_id,omitempty"`
	ResourceType   string   `json:"resource_type,omitempty"`
	Amount         Quantity `json:"amount"`
	TTL            int64    `json:"ttl"`
	AllowSplit     bool     `json:"allow_split,omitempty"`
	IdempotencyKey string   `json:"idempotency_key"`
	Attribution
}

// CommitRequest settles Amount of a reservation's holds; the rest goes back.
type CommitRequest struct {
	ReservationID  string   `json:"-"`
	Amount         Quantity `json:"amount"`
	IdempotencyKey string   `json:"idempotency_key"`
}

// ReleaseRequest gives all of a reservation's holds back.
type ReleaseRequest struct {
	ReservationID string `json:"-"`
}

// The requests of reservations are newer than release 1: their records
// always carry a versioned fingerprint, so their legacy shape is never read.
func (req ReserveRequest) legacy() any { return nil }
func (req CommitRequest) legacy() any  { return nil }
func (req ReleaseRequest) legacy() any { return nil }

// Reserve holds units for a job whose cost is known only when it ends. The
// packages are chosen as for a consume (burnDown), with the same rules:
// frozen, expired and cancelled packages cannot be reserved, and a hold
// takes only what a package has left, so usage and holds together never pass
// its amount. A retry with the same idempotency key gets the same
// reservation.
func (s *Service) Reserve(ctx context.Context, actor Actor, req ReserveRequest) (ReservationResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return ReservationResult{}, err
	}
	if err := validateDraw(req.ProjectID, req.ResourceID, req.ResourceType, req.AllowSplit); err != nil {
		return ReservationResult{}, err
	}
	if err := validatePositive("amount", req.Amount); err != nil {
		return ReservationResult{}, err
	}
	if req.TTL < MinReservationTTL || req.TTL > MaxReservationTTL {
		return ReservationResult{}, Invalid("ttl", "must be between %d and %d seconds", MinReservationTTL, MaxReservationTTL)
	}
	if err := validateKey(req.IdempotencyKey); err != nil {
		return ReservationResult{}, err
	}
	if err := req.Attribution.validate(); err != nil {
		return ReservationResult{}, err
	}
	id := newReservationID(time.Now())
	key := idem{Project: req.ProjectID, Key: scopedKey("reserve", "", req.IdempotencyKey), Shown: req.IdempotencyKey, Request: req}
	out, err := s.reservationStep(ctx, key, func(tx Tx) (ReservationResult, error) {
		return reserve(tx, actor, req, id)
	})
	if err == nil {
		s.reservations.put(out.ReservationID, req.ProjectID)
	}
	return out, err
}

// newReservationID is "rsv-", the creation time in milliseconds (12 hex
// digits, so that ids sort as they were made) and 64 random bits. Ids made
// one after the other land beside each other in the stores' indexes of
// reservations and holds (and of the commits' idempotency keys, which hold
// the id): a group of reserves writes a few pages at the end of each index
// rather than one random page per reserve, and the reads of recent
// reservations stay in cache.
func newReservationID(now time.Time) string {
	var b [14]byte
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	rand.Read(b[6:])
	return "rsv-" + hex.EncodeToString(b[:])
}

func reserve(tx Tx, actor Actor, req ReserveRequest, id string) (ReservationResult, error) {
	parts, err := burnDown(tx, drawRequest{ProjectID: req.ProjectID, ResourceID: req.ResourceID, ResourceType: req.ResourceType,
		Amount: req.Amount, AllowSplit: req.AllowSplit, Verb: "reserve"})
	if err != nil {
		return ReservationResult{}, err
	}
	if err := checkQuota(tx, req.ProjectID, req.UserID, parts, true); err != nil {
		return ReservationResult{}, err
	}
	now := tx.Now()
	out := ReservationResult{Created: true, Reservation: Reservation{ReservationID: id, ProjectID: req.ProjectID, State: ReservationOpen,
		Amount: req.Amount, CreatedAt: now, ExpiresAt: now.Add(time.Duration(req.TTL) * time.Second), Actor: actor.ID,
		IdempotencyKey: req.IdempotencyKey, Attribution: req.Attribution}}
	for _, p := range parts {
		one, err := settle(tx, p.Resource, LedgerEntry{ProjectID: req.ProjectID, ResourceID: p.Resource.ResourceID, Actor: actor.ID,
			Op: OpReserve, HeldDelta: p.Amount, IdempotencyKey: req.IdempotencyKey, Ref: id, UserID: req.UserID, AppUserID: req.AppUserID})
		if err != nil {
			return ReservationResult{}, err
		}
		out.Holds = append(out.Holds, Hold{ResourceID: p.Resource.ResourceID, Amount: p.Amount})
		out.Entries = append(out.Entries, one.Entries...)
	}
	return out, tx.InsertReservation(out.Reservation)
}

// Commit settles Amount (at most what is held) as usage, spread over the
// holds in their order, and gives the rest back to the packages, in one
// step. A reservation whose expiry has passed cannot be committed, whether
// or not the sweeper has released it yet.
//
// The grace rule: a commit settles work the hold allowed when it was taken,
// so it is accepted after the package has expired or been frozen since.
// Reserve refuses expired and frozen packages, so every hold was taken
// while its package was usable; a cancel is refused while a package holds
// units, so the package is still there.
func (s *Service) Commit(ctx context.Context, actor Actor, req CommitRequest) (ReservationResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return ReservationResult{}, err
	}
	if err := ValidateID("reservation_id", req.ReservationID); err != nil {
		return ReservationResult{}, err
	}
	if req.Amount < 0 || req.Amount > MaxQuantity {
		return ReservationResult{}, Invalid("amount", "must be between 0 and 2147483647")
	}
	if err := validateKey(req.IdempotencyKey); err != nil {
		return ReservationResult{}, err
	}
	projectID, err := s.reservationProject(ctx, req.ReservationID)
	if err != nil {
		return ReservationResult{}, err
	}
	key := idem{Project: projectID, Key: scopedKey("commit", req.ReservationID, req.IdempotencyKey), Shown: req.IdempotencyKey, Request: req}
	return s.reservationStep(ctx, key, func(tx Tx) (ReservationResult, error) {
		v, err := tx.Reservation(projectID, req.ReservationID)
		if err != nil {
			return ReservationResult{}, err
		}
		if err := stillOpen(tx, v); err != nil {
			return ReservationResult{}, err
		}
		if req.Amount > v.Amount {
			return ReservationResult{}, Invalid("amount", "is more than the %s reservation %s holds", v.Amount, v.ReservationID)
		}
		if err := checkCommitQuota(tx, v, req.Amount); err != nil {
			return ReservationResult{}, err
		}
		return closeReservation(tx, v, actor.ID, OpCommit, req.Amount, req.IdempotencyKey)
	})
}

// Release gives all of an open reservation's holds back. Releasing it again
// answers the first release.
func (s *Service) Release(ctx context.Context, actor Actor, req ReleaseRequest) (ReservationResult, error) {
	if err := actor.requireAdmin(); err != nil {
		return ReservationResult{}, err
	}
	if err := ValidateID("reservation_id", req.ReservationID); err != nil {
		return ReservationResult{}, err
	}
	projectID, err := s.reservationProject(ctx, req.ReservationID)
	if err != nil {
		return ReservationResult{}, err
	}
	// A reservation is released once: its id is the key.
	key := idem{Project: projectID, Key: scopedKey("release", req.ReservationID, "release"), Param: "reservation_id", Shown: req.ReservationID, Request: req}
	return s.reservationStep(ctx, key, func(tx Tx) (ReservationResult, error) {
		v, err := tx.Reservation(projectID, req.ReservationID)
		if err != nil {
			return ReservationResult{}, err
		}
		if v.State != ReservationOpen {
			return ReservationResult{}, Errorf(ECONFLICT, "reservation %s is %s", v.ReservationID, v.State)
		}
		return closeReservation(tx, v, actor.ID, OpRelease, 0, "")
	})
}

// reservationStep runs op, a reservation step idempotent under key, in an
// Update of key's project. Like Consume, the first attempt applies op and
// records the key without looking it up (onceFresh): a step's key is
// almost always new. A key recorded already, or any other failure, rolls
// the attempt back, and the second attempt is the ordinary once, which
// replays, refuses or applies with the answer it always gave.
func (s *Service) reservationStep(ctx context.Context, key idem, op func(Tx) (ReservationResult, error)) (ReservationResult, error) {
	var out ReservationResult
	err := s.update(ctx, []string{key.Project}, func(tx Tx) (err error) {
		out, err = onceFresh(tx, key, func() (ReservationResult, error) { return op(tx) }, encodeReservation)
		return err
	})
	if err == nil || ctx.Err() != nil {
		return out, err
	}
	err = s.update(ctx, []string{key.Project}, func(tx Tx) (err error) {
		out, err = onceReservation(tx, key, func() (ReservationResult, error) { return op(tx) })
		return err
	})
	return out, err
}

// reservationProject returns the project of reservation id, which a commit
// or a release locks: from the reservations this Service made or looked up
// lately, else from the store (ENOTFOUND if there is no such reservation).
// A reservation's project never changes, so a remembered one is never stale;
// the step reads the reservation again under the project's lock.
func (s *Service) reservationProject(ctx context.Context, id string) (string, error) {
	if p, ok := s.reservations.get(id); ok {
		return p, nil
	}
	v, err := s.Store.FindReservation(ctx, id)
	if err != nil {
		return "", err
	}
	s.reservations.put(id, v.ProjectID)
	return v.ProjectID, nil
}

// projectCacheSize bounds each generation of a projectCache.
const projectCacheSize = 1 << 14

// projectCache maps reservation ids to their projects, in two generations of
// at most projectCacheSize each: when the newer fills up, the older is
// dropped. The zero value is ready to use.
type projectCache struct {
	mu        sync.Mutex
	cur, prev map[string]string
}

func (c *projectCache) get(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[id]; ok {
		return p, true
	}
	p, ok := c.prev[id]
	return p, ok
}

func (c *projectCache) put(id, projectID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= projectCacheSize {
		c.prev, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[string]string)
	}
	c.cur[id] = projectID
}

// stillOpen refuses a commit of a reservation that is no longer open or
// whose expiry has passed.
func stillOpen(tx Tx, v Reservation) error {
	switch {
	case v.State != ReservationOpen:
		return Errorf(ECONFLICT, "reservation %s is %s", v.ReservationID, v.State)
	case !v.ExpiresAt.After(tx.Now()):
		return Errorf(ECONFLICT, "reservation %s expired at %s", v.ReservationID, v.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// closeReservation ends an open reservation with op: it settles settled
// units as usage (a commit; 0 for the others), spread over the holds in
// order, and gives every hold back.
func closeReservation(tx Tx, v Reservation, actor string, op Op, settled Quantity, key string) (ReservationResult, error) {
	out := ReservationResult{Reservation: v}
	left := settled
	for i, h := range v.Holds {
		r, err := tx.Resource(v.ProjectID, h.ResourceID)
		if err != nil {
			return ReservationResult{}, err
		}
		take := min(h.Amount, left)
		left -= take
		one, err := settle(tx, r, LedgerEntry{ProjectID: v.ProjectID, ResourceID: h.ResourceID, Actor: actor, Op: op,
			UsageDelta: take, HeldDelta: -h.Amount, IdempotencyKey: key, Ref: v.ReservationID, UserID: v.UserID, AppUserID: v.AppUserID})
		if err != nil {
			return ReservationResult{}, err
		}
		out.Holds[i].Committed = take
		out.Entries = append(out.Entries, one.Entries...)
	}
	switch op {
	case OpCommit:
		out.State = ReservationCommitted
	case OpRelease:
		out.State = ReservationReleased
	default:
		out.State = ReservationExpired
	}
	out.Committed, out.SettledAt = settled, tx.Now()
	return out, tx.UpdateReservation(out.Reservation)
}

// ListReservations returns one page of a project's reservations, newest
// first, and the count of all that match.
func (s *Service) ListReservations(ctx context.Context, actor Actor, q ReservationQuery) ([]Reservation, int, error) {
	if err := actor.requireAdmin(); err != nil {
		return nil, 0, err
	}
	if err := ValidateID("project_id", q.ProjectID); err != nil {
		return nil, 0, err
	}
	if q.State != "" {
		if _, err := ParseEnum("state", string(q.State), ReservationStates); err != nil {
			return nil, 0, err
		}
	}
	return s.Store.Reservations(ctx, q)
}

// expireBatch bounds the reservations one sweep reads at a time.
const expireBatch = 100

// ExpireHolds releases every open reservation whose expiry is at or before
// now, writing hold_expired entries by SystemActor, and returns how many it
// expired. now is the caller's reading of the clock the store stamps
// entries with (app's sweeper passes Clock.Now). Each reservation is its
// own Update, which reads it again under its project's lock and expires it
// only if it is still open and overdue: two sweepers (two nodes on one database) may both
// find a reservation due, and only the first releases it.
func (s *Service) ExpireHolds(ctx context.Context, now time.Time) (int, error) {
	n := 0
	for {
		due, err := s.Store.DueReservations(ctx, now, expireBatch)
		if err != nil {
			return n, err
		}
		progress := false
		for _, d := range due {
			expired := false
			err := s.update(ctx, []string{d.ProjectID}, func(tx Tx) error {
				expired = false
				v, err := tx.Reservation(d.ProjectID, d.ReservationID)
				if err != nil {
					return err
				}
				if v.State != ReservationOpen || v.ExpiresAt.After(now) {
					return nil
				}
				if _, err := closeReservation(tx, v, SystemActor, OpHoldExpired, 0, ""); err != nil {
					return err
				}
				if err := reservationExpired(tx, v); err != nil {
					return err
				}
				expired = true
				return nil
			})
			if err != nil {
				return n, err
			}
			if expired {
				n++
				progress = true
			}
		}
		// A batch in which nothing could be expired (another sweeper took
		// them all) is not read again.
		if len(due) < expireBatch || !progress {
			return n, nil
		}
	}
}
