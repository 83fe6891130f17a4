package allot

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"time"
)

// NoticeType is the kind of a tenant's notice configuration, as MetaStudio
// names it.
type NoticeType string

const (
	// NoticeResourceLeft is about the amount a package has left.
	NoticeResourceLeft NoticeType = "RESOURCE_LEFT"
	// NoticeResourceExpire is about a package's expiry.
	NoticeResourceExpire NoticeType = "RESOURCE_EXPIRE"
)

// NoticeTypes lists every notice type.
var NoticeTypes = []NoticeType{NoticeResourceExpire, NoticeResourceLeft}

// MaxPropertiesLen bounds a notice configuration's properties, in bytes.
const MaxPropertiesLen = 4096

// NoticeConfig is a tenant's notice configuration of one type
// (SetTenantNoticeConfiguration). Properties is opaque to the contract:
// it is kept and returned byte for byte (nil: never given). When it parses
// as a JSON object with the keys NoticeSettings documents, allot acts on it.
type NoticeConfig struct {
	ProjectID  string     `json:"project_id"`
	Type       NoticeType `json:"type"`
	SendMsg    bool       `json:"send_msg"`
	Properties *string    `json:"properties,omitempty"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// NoticeSettings is what allot reads from a configuration's properties, an
// allot extension of the contract:
//
//	{"threshold_percent": 20}   RESOURCE_LEFT: fire when a package's remaining
//	                            amount falls to or below 20% of its amount
//	{"threshold_amount": 5}     RESOURCE_LEFT: ... to or below 5 units
//	{"days_before": [30, 7, 1]} RESOURCE_EXPIRE: warn 30, 7 and 1 days before
//	                            a package expires
//
// Both thresholds may be given; each fires on its own. Properties that are
// not a JSON object, or keys of another type, are kept but do nothing.
type NoticeSettings struct {
	ThresholdPercent *Quantity
	ThresholdAmount  *Quantity
	DaysBefore       []int
}

// MaxDaysBefore bounds one days_before value.
const MaxDaysBefore = 366

// Settings parses c's properties. It never fails: what allot does not
// understand it ignores (the SDK's contract lets any string through).
func (c NoticeConfig) Settings() NoticeSettings {
	var out NoticeSettings
	if c.Properties == nil {
		return out
	}
	var raw struct {
		ThresholdPercent *Quantity `json:"threshold_percent"`
		ThresholdAmount  *Quantity `json:"threshold_amount"`
		DaysBefore       []int     `json:"days_before"`
	}
	if json.Unmarshal([]byte(*c.Properties), &raw) != nil {
		return out
	}
	switch c.Type {
	case NoticeResourceLeft:
		if p := raw.ThresholdPercent; p != nil && *p >= 0 && *p <= 100*QuantityScale {
			out.ThresholdPercent = p
		}
		if a := raw.ThresholdAmount; a != nil && *a >= 0 {
			out.ThresholdAmount = a
		}
	case NoticeResourceExpire:
		for _, d := range raw.DaysBefore {
			if d >= 1 && d <= MaxDaysBefore && !slices.Contains(out.DaysBefore, d) {
				out.DaysBefore = append(out.DaysBefore, d)
			}
		}
		slices.Sort(out.DaysBefore)
	}
	return out
}

// ValidateNoticeType checks a notice type given as param.
func ValidateNoticeType(param, t string) error {
	if !slices.Contains(NoticeTypes, NoticeType(t)) {
		return Invalid(param, "must be RESOURCE_EXPIRE or RESOURCE_LEFT")
	}
	return nil
}

func (c NoticeConfig) validate() error {
	if err := ValidateID("project_id", c.ProjectID); err != nil {
		return err
	}
	if err := ValidateNoticeType("type", string(c.Type)); err != nil {
		return err
	}
	if c.Properties != nil {
		if err := validateText("properties", *c.Properties, MaxPropertiesLen, true); err != nil {
			return err
		}
	}
	return nil
}

// The event types a webhook may subscribe to.
const (
	EventResourceLeft       = "resource.left"
	EventResourceDepleted   = "resource.depleted"
	EventResourceExpiring   = "resource.expiring"
	EventResourceExpired    = "resource.expired"
	EventReservationExpired = "reservation.expired"
)

// EventTypes lists every event type.
var EventTypes = []string{EventResourceLeft, EventResourceDepleted, EventResourceExpiring, EventResourceExpired, EventReservationExpired}

// Event is one notification, written to the outbox in the transaction of
// the change that caused it and delivered from there to every webhook that
// subscribes to it. Its JSON is what a receiver gets.
type Event struct {
	ID        string    `json:"id"` // stable: every attempt and redelivery carries it
	Type      string    `json:"type"`
	At        time.Time `json:"time"`
	ProjectID string    `json:"project_id"`
	// SPProjectID is the project's service provider (not sent): it selects
	// the SP's webhooks.
	SPProjectID   string    `json:"-"`
	ResourceID    string    `json:"resource_id,omitempty"`
	ResourceType  string    `json:"resource_type,omitempty"`
	ReservationID string    `json:"reservation_id,omitempty"`
	Amount        Quantity  `json:"amount"`
	Usage         Quantity  `json:"usage"`
	Remaining     Quantity  `json:"remaining"`
	Threshold     *Quantity `json:"threshold,omitempty"`         // resource.left: the threshold in units
	ThresholdPct  *Quantity `json:"threshold_percent,omitempty"` // resource.left: when set as a percentage
	DaysBefore    int       `json:"days_before,omitempty"`       // resource.expiring
	ExpireTime    time.Time `json:"expire_time,omitzero"`
	SendMsg       bool      `json:"send_msg"`
}

// Webhook is an operator's receiver of events. The secret signs every
// request; the store keeps it sealed, and it is shown once, on creation.
type Webhook struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Events are the event types delivered (sorted).
	Events []string `json:"events"`
	// ProjectID limits the webhook to one project's events ("" every
	// project the owner may see).
	ProjectID string `json:"project_id,omitempty"`
	// SPProjectID is the service provider that owns the webhook ("" an
	// admin's): it gets only its customers' events.
	SPProjectID      string    `json:"sp_project_id,omitempty"`
	SecretCiphertext []byte    `json:"-"`
	CreatedAt        time.Time `json:"created_at"`
}

// DeliveryState is where a delivery is.
type DeliveryState string

const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryFailed    DeliveryState = "failed"
)

// Delivery is one event on its way to one webhook, with every attempt.
type Delivery struct {
	ID          string        `json:"id"`
	WebhookID   string        `json:"webhook_id"`
	EventID     string        `json:"event_id"`
	EventType   string        `json:"event_type"`
	State       DeliveryState `json:"state"`
	CreatedAt   time.Time     `json:"created_at"`
	NextAt      time.Time     `json:"next_attempt_at,omitzero"`
	Attempts    []Attempt     `json:"attempts"`
	DeliveredAt time.Time     `json:"delivered_at,omitzero"`
}

// Attempt is one POST of a delivery. The log never holds the secret or the
// signature.
type Attempt struct {
	At         time.Time `json:"at"`
	StatusCode int       `json:"status_code,omitempty"` // 0: no answer
	LatencyMS  int64     `json:"latency_ms"`
	Error      string    `json:"error,omitempty"`
}

// Claim is a delivery a dispatcher holds until Until: the event's body,
// the webhook's URL and sealed secret, and the attempts so far.
type Claim struct {
	DeliveryID       string
	Token            string // proves the claim when the attempt is recorded
	Until            time.Time
	URL              string
	SecretCiphertext []byte
	WebhookID        string
	EventID          string
	Body             []byte
	CreatedAt        time.Time
	Attempts         int
}

// AttemptOutcome is what a dispatcher records after one attempt: the
// attempt, and the delivery's next state (pending with NextAt to retry).
type AttemptOutcome struct {
	Attempt
	State  DeliveryState
	NextAt time.Time
}

// OutboxStats describes what waits to be delivered.
type OutboxStats struct {
	Pending int
	// Oldest is the creation time of the oldest pending delivery (zero if none).
	Oldest time.Time
}

// FailedDelivery is a delivery that failed, with its webhook and its last
// attempt, as a list across webhooks shows it.
type FailedDelivery struct {
	ID        string
	WebhookID string
	EventID   string
	EventType string
	CreatedAt time.Time
	// FailedAt is when it failed: its last attempt.
	FailedAt time.Time
	Attempts int
	// Last is the last attempt (zero if none was recorded).
	Last Attempt
	// The webhook's URL, the project it is limited to ("" every project of
	// its owner) and its owner ("" an admin).
	URL, ProjectID, SPProjectID string
}

// OutboxPruned counts what one prune of the outbox deleted.
type OutboxPruned struct {
	Deliveries, Attempts, Events int
}

// Add returns the sum of two counts.
func (p OutboxPruned) Add(q OutboxPruned) OutboxPruned {
	return OutboxPruned{Deliveries: p.Deliveries + q.Deliveries, Attempts: p.Attempts + q.Attempts, Events: p.Events + q.Events}
}

// DefaultOutboxRetention is how long finished deliveries, their attempts and
// their events are kept: a week to look at a failure and redeliver it.
const DefaultOutboxRetention = 7 * 24 * time.Hour

// OutboxPruneBatch bounds the deliveries, and the events, one prune
// transaction deletes: writers wait for one batch at most.
const OutboxPruneBatch = 500

// KeepUntil is the earliest time the outbox may forget ev's id. The id of
// an expiry event is derived from its package (SweepExpiry) and the outbox
// keeps one event per id: the sweep may derive it again as long as the
// package is a candidate, until ExpiryWindow after its expiry, and an id
// forgotten sooner would be sent twice. Every other event has a new id
// (zero: no bound).
func (ev Event) KeepUntil() time.Time {
	switch ev.Type {
	case EventResourceExpiring, EventResourceExpired:
		if !ev.ExpireTime.IsZero() {
			return ev.ExpireTime.Add(ExpiryWindow)
		}
	}
	return time.Time{}
}

// ExpiryCandidate is a package of a project with a RESOURCE_EXPIRE
// configuration whose expiry is near or just past.
type ExpiryCandidate struct {
	Resource    Resource
	Config      NoticeConfig
	SPProjectID string
}

// Notices is the store's side of notifications: tenants' notice
// configurations, operators' webhooks and the outbox of deliveries.
type Notices interface {
	// SetNoticeConfig creates or replaces a project's configuration of one
	// type. ENOTFOUND if the project does not exist.
	SetNoticeConfig(ctx context.Context, c NoticeConfig) error
	// FindNoticeConfig returns a project's configuration of one type.
	// ENOTFOUND if there is none.
	FindNoticeConfig(ctx context.Context, projectID string, t NoticeType) (NoticeConfig, error)
	// ExpiryCandidates returns the live packages whose expiry lies in
	// [from, to] of every project that has a RESOURCE_EXPIRE configuration.
	ExpiryCandidates(ctx context.Context, from, to time.Time) ([]ExpiryCandidate, error)

	// CreateWebhook adds a webhook. ECONFLICT if the id exists.
	CreateWebhook(ctx context.Context, w Webhook) error
	// FindWebhook returns a webhook. ENOTFOUND if there is none.
	FindWebhook(ctx context.Context, id string) (Webhook, error)
	// ListWebhooks returns the webhooks of one owner (spProjectID; "" for
	// every webhook), ordered by id.
	ListWebhooks(ctx context.Context, spProjectID string, all bool) ([]Webhook, error)
	// DeleteWebhook removes a webhook and its pending deliveries stop.
	// ENOTFOUND if there is none.
	DeleteWebhook(ctx context.Context, id string) error

	// Deliveries returns a webhook's deliveries with their attempts, newest
	// first, at most limit.
	Deliveries(ctx context.Context, webhookID string, limit int) ([]Delivery, error)
	// Redeliver makes a delivery of the webhook pending again, due at now,
	// with the same event. ENOTFOUND if the webhook has no such delivery.
	Redeliver(ctx context.Context, webhookID, deliveryID string, now time.Time) error
	// ClaimDeliveries leases up to limit pending deliveries due at now whose
	// earlier lease (if any) has run out, until now+lease. Two dispatchers,
	// on one database or on two nodes, never hold one delivery at once.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Claim, error)
	// RecordAttempt appends an attempt to a claimed delivery and moves it to
	// o.State. It records nothing, and returns false, if the claim's lease
	// was taken over meanwhile.
	RecordAttempt(ctx context.Context, c Claim, o AttemptOutcome) (bool, error)
	// OutboxStats counts the pending deliveries.
	OutboxStats(ctx context.Context) (OutboxStats, error)
	// FailedDeliveries returns page p of the failed deliveries of one
	// owner's webhooks (spProjectID; every webhook when all), the most
	// recently failed first (then by id, descending), and how many there
	// are in all.
	FailedDeliveries(ctx context.Context, spProjectID string, all bool, p Page) ([]FailedDelivery, int, error)
	// PruneOutbox deletes, in one transaction, at most limit finished
	// deliveries (delivered or failed) that finished before before, with
	// their attempts, and at most limit events written before before that
	// no delivery names any more and whose KeepUntil is before now. A
	// pending delivery, and so its event, is never deleted.
	PruneOutbox(ctx context.Context, before, now time.Time, limit int) (OutboxPruned, error)
}

// NoticeTx is the transaction's side of notifications (part of Tx).
type NoticeTx interface {
	// NoticeConfigs returns a project's notice configurations.
	NoticeConfigs(projectID string) ([]NoticeConfig, error)
	// InsertEvent writes ev to the outbox with a pending delivery for each
	// webhook that subscribes to it: a webhook of ev's project, or one for
	// every project whose owner is an admin or ev's SP. It returns false,
	// writing nothing, if an event with ev.ID exists. The project must be
	// held.
	InsertEvent(ev Event, body []byte) (bool, error)
}

// SetNoticeConfig stores a tenant's notice configuration (the tenant
// plane's POST). Properties is kept byte for byte.
func (s *Service) SetNoticeConfig(ctx context.Context, c NoticeConfig) error {
	if err := c.validate(); err != nil {
		return err
	}
	return s.Store.SetNoticeConfig(ctx, c)
}

// NoticeConfig returns a tenant's notice configuration of one type. A type
// never set answers with SendMsg false and no properties.
func (s *Service) NoticeConfig(ctx context.Context, projectID string, t NoticeType) (NoticeConfig, error) {
	if err := ValidateNoticeType("type", string(t)); err != nil {
		return NoticeConfig{}, err
	}
	c, err := s.Store.FindNoticeConfig(ctx, projectID, t)
	if ErrorCodeOf(err) == ENOTFOUND {
		return NoticeConfig{ProjectID: projectID, Type: t}, nil
	}
	return c, err
}

// CreateWebhookRequest adds a webhook. Secret signs its requests.
type CreateWebhookRequest struct {
	URL       string   `json:"url"`
	Secret    string   `json:"secret"`
	Events    []string `json:"events"`
	ProjectID string   `json:"project_id,omitempty"`
}

// MinWebhookSecretLen is the shortest secret a webhook accepts.
const MinWebhookSecretLen = 16

// Validate checks a webhook request: an absolute http(s) URL with a host,
// a secret of at least MinWebhookSecretLen bytes, known event types.
func (req *CreateWebhookRequest) Validate() error {
	u, err := url.Parse(req.URL)
	if err != nil || req.URL == "" || len(req.URL) > 2048 {
		return Invalid("url", "must be an absolute http or https URL of at most 2048 bytes")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Invalid("url", "must use http or https, not %q", u.Scheme)
	}
	if u.Host == "" || u.User != nil {
		return Invalid("url", "must name a host and no user information")
	}
	if len(req.Secret) < MinWebhookSecretLen || len(req.Secret) > 256 {
		return Invalid("secret", "must be %d to 256 bytes", MinWebhookSecretLen)
	}
	if err := validateText("secret", req.Secret, 256, false); err != nil {
		return err
	}
	if len(req.Events) == 0 {
		return Invalid("events", "must name at least one of %s", strings.Join(EventTypes, ", "))
	}
	for _, e := range req.Events {
		if !slices.Contains(EventTypes, e) {
			return Invalid("events", "%q is not one of %s", e, strings.Join(EventTypes, ", "))
		}
	}
	if req.ProjectID != "" {
		return ValidateID("project_id", req.ProjectID)
	}
	return nil
}

// CreateWebhook adds a webhook whose secret seal encrypts (bound to the new
// webhook's id): the store keeps only the ciphertext. An SP may add webhooks for its own customers only: with a
// project id, that project must be its customer; without, the webhook gets
// the events of all its customers.
func (s *Service) CreateWebhook(ctx context.Context, actor Actor, req CreateWebhookRequest, seal func(id string, secret []byte) ([]byte, error)) (Webhook, error) {
	if err := req.Validate(); err != nil {
		return Webhook{}, err
	}
	w := Webhook{ID: newID("wh-"), URL: req.URL, Events: slices.Compact(slices.Sorted(slices.Values(req.Events))),
		ProjectID: req.ProjectID}
	switch actor.Role {
	case RoleAdmin:
	case RoleSP:
		w.SPProjectID = actor.SPProjectID
		if req.ProjectID != "" {
			p, err := s.Store.FindProject(ctx, req.ProjectID)
			if err != nil || p.SPProjectID != actor.SPProjectID {
				return Webhook{}, forbidden("this credential cannot add webhooks for project %s", req.ProjectID)
			}
		}
	default:
		return Webhook{}, forbidden("this credential cannot manage webhooks")
	}
	sealed, err := seal(w.ID, []byte(req.Secret))
	if err != nil {
		return Webhook{}, err
	}
	w.SecretCiphertext = sealed
	return w, s.Store.CreateWebhook(ctx, w)
}

// ListWebhooks returns the webhooks the actor owns (an admin: all).
func (s *Service) ListWebhooks(ctx context.Context, actor Actor) ([]Webhook, error) {
	switch actor.Role {
	case RoleAdmin:
		return s.Store.ListWebhooks(ctx, "", true)
	case RoleSP:
		return s.Store.ListWebhooks(ctx, actor.SPProjectID, false)
	}
	return nil, forbidden("this credential cannot manage webhooks")
}

// ownWebhook returns a webhook the actor owns; another owner's is
// ENOTFOUND, so an SP cannot learn which ids exist.
func (s *Service) ownWebhook(ctx context.Context, actor Actor, id string) (Webhook, error) {
	if err := ValidateID("webhook_id", id); err != nil {
		return Webhook{}, err
	}
	w, err := s.Store.FindWebhook(ctx, id)
	if err != nil {
		return Webhook{}, err
	}
	if actor.Role != RoleAdmin && (actor.Role != RoleSP || w.SPProjectID != actor.SPProjectID) {
		return Webhook{}, Errorf(ENOTFOUND, "webhook %s does not exist", id)
	}
	return w, nil
}

// DeleteWebhook removes a webhook the actor owns.
func (s *Service) DeleteWebhook(ctx context.Context, actor Actor, id string) error {
	if _, err := s.ownWebhook(ctx, actor, id); err != nil {
		return err
	}
	return s.Store.DeleteWebhook(ctx, id)
}

// Deliveries returns the delivery log of a webhook the actor owns.
func (s *Service) Deliveries(ctx context.Context, actor Actor, id string, limit int) ([]Delivery, error) {
	if _, err := s.ownWebhook(ctx, actor, id); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.Store.Deliveries(ctx, id, limit)
}

// Redeliver sends a delivery of a webhook the actor owns again, now, with
// the same event id and body.
func (s *Service) Redeliver(ctx context.Context, actor Actor, webhookID, deliveryID string, now time.Time) error {
	if _, err := s.ownWebhook(ctx, actor, webhookID); err != nil {
		return err
	}
	if err := ValidateID("delivery_id", deliveryID); err != nil {
		return err
	}
	return s.Store.Redeliver(ctx, webhookID, deliveryID, now)
}

// FailedDeliveries returns page p of the failed deliveries of the webhooks
// the actor owns (an admin: every webhook), the most recently failed first,
// and how many there are in all.
func (s *Service) FailedDeliveries(ctx context.Context, actor Actor, p Page) ([]FailedDelivery, int, error) {
	if p.Limit <= 0 || p.Limit > 1000 {
		p.Limit = 100
	}
	p.Offset = max(p.Offset, 0)
	switch actor.Role {
	case RoleAdmin:
		return s.Store.FailedDeliveries(ctx, "", true, p)
	case RoleSP:
		return s.Store.FailedDeliveries(ctx, actor.SPProjectID, false, p)
	}
	return nil, 0, forbidden("this credential cannot manage webhooks")
}

// PruneOutbox deletes the deliveries that were delivered or failed more than
// retention before now, with their attempts, and then the events no
// delivery names that were written more than retention before now (an
// expiry event not before its KeepUntil). It works in transactions of at
// most OutboxPruneBatch deliveries and events, until nothing is left to
// prune or ctx ends, and returns what it deleted. A retention of 0 or less
// prunes nothing.
func (s *Service) PruneOutbox(ctx context.Context, now time.Time, retention time.Duration) (OutboxPruned, error) {
	var total OutboxPruned
	if retention <= 0 {
		return total, nil
	}
	before := now.Add(-retention)
	for ctx.Err() == nil {
		n, err := s.Store.PruneOutbox(ctx, before, now, OutboxPruneBatch)
		total = total.Add(n)
		if err != nil {
			return total, err
		}
		if n.Deliveries < OutboxPruneBatch && n.Events < OutboxPruneBatch {
			break
		}
	}
	return total, ctx.Err()
}
