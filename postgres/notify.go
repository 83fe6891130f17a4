package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

// Notifications: notice configurations, webhooks and the outbox
// (allot.Notices and allot.NoticeTx). Several nodes claim deliveries from
// one outbox: a claim takes the due rows with FOR UPDATE SKIP LOCKED and
// leases them, so each delivery goes to one node, and a node that dies
// mid-delivery leaves it to another once the lease runs out.

func ms(t time.Time) int64         { return t.UnixMilli() }
func fromMS(v int64) time.Time     { return time.UnixMilli(v).UTC() }
func eventList(es []string) string { return "," + strings.Join(es, ",") + "," }
func fromEventList(s string) []string {
	return strings.Split(strings.Trim(s, ","), ",")
}

// SetNoticeConfig creates or replaces a project's notice configuration. It
// takes a share lock on the project's row, so it waits for a group that
// holds the project (a group keeps the configurations of the projects it
// holds, see groupTx).
func (s *Store) SetNoticeConfig(ctx context.Context, c allot.NoticeConfig) error {
	updated := s.createdAt(c.UpdatedAt)
	var n int64
	err := retry(ctx, conflict, func() error {
		tag, err := s.pool.Exec(ctx, `INSERT INTO notice_configs (project_id, type, send_msg, properties, updated_at)
			SELECT id, $1::text, $2::boolean, $3::text, $4::bigint FROM projects WHERE id = $5 FOR SHARE
			ON CONFLICT (project_id, type) DO UPDATE SET send_msg = excluded.send_msg,
				properties = excluded.properties, updated_at = excluded.updated_at`,
			string(c.Type), c.SendMsg, c.Properties, updated, c.ProjectID)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: set notice configuration: %w", err)
	}
	if n == 0 {
		return projectNotFound(c.ProjectID)
	}
	return nil
}

// FindNoticeConfig returns a project's configuration of one type.
func (s *Store) FindNoticeConfig(ctx context.Context, projectID string, t allot.NoticeType) (allot.NoticeConfig, error) {
	c := allot.NoticeConfig{ProjectID: projectID, Type: t}
	var updated int64
	err := s.pool.QueryRow(ctx, `SELECT send_msg, properties, updated_at FROM notice_configs WHERE project_id = $1 AND type = $2`,
		projectID, string(t)).Scan(&c.SendMsg, &c.Properties, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.NoticeConfig{}, allot.Errorf(allot.ENOTFOUND, "project %s has no %s notice configuration", projectID, t)
	}
	if err != nil {
		return allot.NoticeConfig{}, fmt.Errorf("postgres: find notice configuration: %w", err)
	}
	c.UpdatedAt = fromUnix(updated)
	return c, nil
}

// ExpiryCandidates returns the live packages expiring in [from, to] of the
// projects with a RESOURCE_EXPIRE configuration.
func (s *Store) ExpiryCandidates(ctx context.Context, from, to time.Time) ([]allot.ExpiryCandidate, error) {
	var out []allot.ExpiryCandidate
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `SELECT c.project_id, c.send_msg, c.properties, c.updated_at, COALESCE(p.sp_project_id, '')
			FROM notice_configs c JOIN projects p ON p.id = c.project_id WHERE c.type = 'RESOURCE_EXPIRE' ORDER BY c.project_id`)
		if err != nil {
			return err
		}
		var cfgs []allot.ExpiryCandidate
		for rows.Next() {
			var (
				c       allot.ExpiryCandidate
				updated int64
			)
			if err := rows.Scan(&c.Config.ProjectID, &c.Config.SendMsg, &c.Config.Properties, &updated, &c.SPProjectID); err != nil {
				rows.Close()
				return err
			}
			c.Config.Type = allot.NoticeResourceExpire
			c.Config.UpdatedAt = fromUnix(updated)
			cfgs = append(cfgs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range cfgs {
			rows, err := tx.Query(ctx, `SELECT `+resourceColumns+` FROM resources
				WHERE project_id = $1 AND NOT removed AND expire_time BETWEEN $2 AND $3 ORDER BY seq`,
				c.Config.ProjectID, from.Unix(), to.Unix())
			if err != nil {
				return err
			}
			rs, err := scanResources(rows, c.Config.ProjectID, 0)
			if err != nil {
				return err
			}
			for _, r := range rs {
				out = append(out, allot.ExpiryCandidate{Resource: r, Config: c.Config, SPProjectID: c.SPProjectID})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: expiry candidates: %w", err)
	}
	return out, nil
}

const webhookColumns = `id, url, events, project_id, sp_project_id, secret_ciphertext, created_at`

func scanWebhook(row pgx.Row) (allot.Webhook, error) {
	var (
		w       allot.Webhook
		events  string
		created int64
	)
	if err := row.Scan(&w.ID, &w.URL, &events, &w.ProjectID, &w.SPProjectID, &w.SecretCiphertext, &created); err != nil {
		return allot.Webhook{}, err
	}
	w.Events, w.CreatedAt = fromEventList(events), fromUnix(created)
	return w, nil
}

// CreateWebhook adds a webhook.
func (s *Store) CreateWebhook(ctx context.Context, w allot.Webhook) error {
	if len(w.SecretCiphertext) == 0 {
		return allot.Invalid("secret_ciphertext", "is required")
	}
	created := s.createdAt(w.CreatedAt)
	err := retry(ctx, conflict, func() error {
		_, err := s.pool.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			w.ID, w.URL, eventList(w.Events), w.ProjectID, w.SPProjectID, w.SecretCiphertext, created)
		return err
	})
	exists := allot.Errorf(allot.ECONFLICT, "webhook %s exists already", w.ID)
	return mapError(err, map[string]*allot.Error{"webhooks_pkey": exists, "23505": exists})
}

// FindWebhook returns a webhook.
func (s *Store) FindWebhook(ctx context.Context, id string) (allot.Webhook, error) {
	w, err := scanWebhook(s.pool.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.Webhook{}, allot.Errorf(allot.ENOTFOUND, "webhook %s does not exist", id)
	}
	if err != nil {
		return allot.Webhook{}, fmt.Errorf("postgres: find webhook: %w", err)
	}
	return w, nil
}

// ListWebhooks returns one owner's webhooks, or every webhook when all.
func (s *Store) ListWebhooks(ctx context.Context, spProjectID string, all bool) ([]allot.Webhook, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE $1 OR sp_project_id = $2 ORDER BY id`, all, spProjectID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list webhooks: %w", err)
	}
	defer rows.Close()
	out := []allot.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: list webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// DeleteWebhook removes a webhook with its deliveries and their attempts.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	var n int64
	err := s.withTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		if _, err := tx.Exec(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE webhook_id = $1)`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM deliveries WHERE webhook_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete webhook: %w", err)
	}
	if n == 0 {
		return allot.Errorf(allot.ENOTFOUND, "webhook %s does not exist", id)
	}
	return nil
}

// Deliveries returns a webhook's deliveries, newest first, with attempts.
func (s *Store) Deliveries(ctx context.Context, webhookID string, limit int) ([]allot.Delivery, error) {
	var out []allot.Delivery
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = []allot.Delivery{}
		rows, err := tx.Query(ctx, `SELECT id, event_id, event_type, state, created_at, next_at, delivered_at
			FROM deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, webhookID, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			d := allot.Delivery{WebhookID: webhookID, Attempts: []allot.Attempt{}}
			var (
				created, next int64
				delivered     *int64
				state         string
			)
			if err := rows.Scan(&d.ID, &d.EventID, &d.EventType, &state, &created, &next, &delivered); err != nil {
				rows.Close()
				return err
			}
			d.State, d.CreatedAt = allot.DeliveryState(state), fromUnix(created)
			if d.State == allot.DeliveryPending {
				d.NextAt = fromMS(next)
			}
			if delivered != nil {
				d.DeliveredAt = fromMS(*delivered)
			}
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			rows, err := tx.Query(ctx, `SELECT at, status_code, latency_ms, error FROM delivery_attempts
				WHERE delivery_id = $1 ORDER BY n`, out[i].ID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var (
					a  allot.Attempt
					at int64
				)
				if err := rows.Scan(&at, &a.StatusCode, &a.LatencyMS, &a.Error); err != nil {
					rows.Close()
					return err
				}
				a.At = fromMS(at)
				out[i].Attempts = append(out[i].Attempts, a)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: deliveries: %w", err)
	}
	return out, nil
}

// Redeliver makes a delivery pending again, due at now.
func (s *Store) Redeliver(ctx context.Context, webhookID, deliveryID string, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET state = 'pending', next_at = $1, lease_until = 0, claim = '', done_at = 0
		WHERE webhook_id = $2 AND id = $3`, ms(now), webhookID, deliveryID)
	if err != nil {
		return fmt.Errorf("postgres: redeliver: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return allot.Errorf(allot.ENOTFOUND, "webhook %s has no delivery %s", webhookID, deliveryID)
	}
	return nil
}

// doneAt is a delivery's done_at after an attempt: when it was delivered or
// failed, in Unix milliseconds, or 0 while it stays pending.
func doneAt(o allot.AttemptOutcome) int64 {
	if o.State == allot.DeliveryPending {
		return 0
	}
	return ms(o.At)
}

// keepUntil is an event's keep_until, in Unix seconds (0: no bound).
func keepUntil(ev allot.Event) int64 {
	if k := ev.KeepUntil(); !k.IsZero() {
		return k.Unix()
	}
	return 0
}

func claimToken() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ClaimDeliveries leases due deliveries: rows another node is claiming at
// the same moment are skipped (SKIP LOCKED), and rows it leased are not due
// until the lease runs out.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]allot.Claim, error) {
	var out []allot.Claim
	token := claimToken()
	until := now.Add(lease)
	err := s.withTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `UPDATE deliveries d SET lease_until = $1, claim = $2
			FROM (SELECT id FROM deliveries WHERE state = 'pending' AND next_at <= $3 AND lease_until <= $3
				ORDER BY next_at LIMIT $4 FOR UPDATE SKIP LOCKED) due, webhooks w, events e
			WHERE d.id = due.id AND w.id = d.webhook_id AND e.id = d.event_id
			RETURNING d.id, d.webhook_id, d.event_id, d.created_at, d.attempts, w.url, w.secret_ciphertext, e.body`,
			ms(until), token, ms(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := allot.Claim{Token: token, Until: until}
			var created int64
			if err := rows.Scan(&c.DeliveryID, &c.WebhookID, &c.EventID, &created, &c.Attempts, &c.URL, &c.SecretCiphertext, &c.Body); err != nil {
				return err
			}
			c.CreatedAt = fromUnix(created)
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim deliveries: %w", err)
	}
	return out, nil
}

// RecordAttempt appends an attempt to a delivery still claimed by c.
func (s *Store) RecordAttempt(ctx context.Context, c allot.Claim, o allot.AttemptOutcome) (bool, error) {
	recorded := false
	err := s.withTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		recorded = false
		var delivered *int64
		if o.State == allot.DeliveryDelivered {
			at := ms(o.At)
			delivered = &at
		}
		var n int
		err := tx.QueryRow(ctx, `UPDATE deliveries SET attempts = attempts + 1, state = $1, next_at = $2, lease_until = 0, claim = '',
				delivered_at = COALESCE($3, delivered_at), done_at = $6
			WHERE id = $4 AND claim = $5 RETURNING attempts`,
			string(o.State), ms(o.NextAt), delivered, c.DeliveryID, c.Token, doneAt(o)).Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO delivery_attempts (delivery_id, n, at, status_code, latency_ms, error) VALUES ($1, $2, $3, $4, $5, $6)`,
			c.DeliveryID, n, ms(o.At), o.StatusCode, o.LatencyMS, o.Error); err != nil {
			return err
		}
		recorded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: record attempt: %w", err)
	}
	return recorded, nil
}

// OutboxStats counts the pending deliveries.
func (s *Store) OutboxStats(ctx context.Context) (allot.OutboxStats, error) {
	var (
		st     allot.OutboxStats
		oldest *int64
	)
	err := s.pool.QueryRow(ctx, `SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'`).Scan(&st.Pending, &oldest)
	if err != nil {
		return st, fmt.Errorf("postgres: outbox stats: %w", err)
	}
	if oldest != nil {
		st.Oldest = fromUnix(*oldest)
	}
	return st, nil
}

// NoticeConfigs returns a project's notice configurations. On the fast path
// those of a held project are read once per group: they change only under
// a lock on the project's row (SetNoticeConfig).
func (t *pgTx) NoticeConfigs(projectID string) ([]allot.NoticeConfig, error) {
	if cs, ok := t.g.notices[projectID]; ok {
		return slices.Clone(cs), nil
	}
	cs, err := t.noticeConfigs(projectID)
	if err == nil && t.g.fast && t.g.held[projectID] != nil {
		t.g.knowNotices(projectID, slices.Clone(cs))
	}
	return cs, err
}

func (t *pgTx) noticeConfigs(projectID string) ([]allot.NoticeConfig, error) {
	rows, err := t.tx.Query(t.ctx, `SELECT type, send_msg, properties, updated_at FROM notice_configs WHERE project_id = $1`, projectID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []allot.NoticeConfig
	for rows.Next() {
		c := allot.NoticeConfig{ProjectID: projectID}
		var (
			typ     string
			updated int64
		)
		if err := rows.Scan(&typ, &c.SendMsg, &c.Properties, &updated); err != nil {
			return nil, err
		}
		c.Type, c.UpdatedAt = allot.NoticeType(typ), fromUnix(updated)
		out = append(out, c)
	}
	return out, rows.Err()
}

// InsertEvent writes an event and a delivery per subscribed webhook.
func (t *pgTx) InsertEvent(ev allot.Event, body []byte) (bool, error) {
	if _, err := t.holding("an event", ev.ProjectID); err != nil {
		return false, err
	}
	tag, err := t.tx.Exec(t.ctx, `INSERT INTO events (id, project_id, type, at, body, keep_until) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		ev.ID, ev.ProjectID, ev.Type, ev.At.Unix(), body, keepUntil(ev))
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO deliveries (id, webhook_id, event_id, event_type, state, created_at, next_at)
		SELECT $1::text || '.' || id, id, $1::text, $2::text, 'pending', $3::bigint, $4::bigint FROM webhooks
		WHERE position(',' || $2::text || ',' in events) > 0
			AND (project_id = $5 OR project_id = '' AND (sp_project_id = '' OR sp_project_id = $6::text OR sp_project_id = $5::text))`,
		ev.ID, ev.Type, ev.At.Unix(), ms(t.now), ev.ProjectID, ev.SPProjectID)
	if err != nil {
		return false, err
	}
	return true, nil
}

// failedSelect reads a failed delivery with its webhook and last attempt
// (the attempt numbered like the delivery's count of attempts).
const failedSelect = `SELECT d.id, d.webhook_id, d.event_id, d.event_type, d.created_at, d.done_at, d.attempts,
		COALESCE(a.at, 0), COALESCE(a.status_code, 0), COALESCE(a.latency_ms, 0), COALESCE(a.error, ''),
		w.url, w.project_id, w.sp_project_id
	FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
	LEFT JOIN delivery_attempts a ON a.delivery_id = d.id AND a.n = d.attempts`

// FailedDeliveries returns a page of one owner's failed deliveries, the
// most recently failed first, walking the deliveries_failed index.
func (s *Store) FailedDeliveries(ctx context.Context, spProjectID string, all bool, p allot.Page) ([]allot.FailedDelivery, int, error) {
	out := []allot.FailedDelivery{}
	count := 0
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		out = out[:0]
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.state = 'failed' AND ($1::boolean OR w.sp_project_id = $2::text)`, all, spProjectID).Scan(&count); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, failedSelect+`
			WHERE d.state = 'failed' AND ($1::boolean OR w.sp_project_id = $2::text)
			ORDER BY d.done_at DESC, d.id DESC LIMIT $3 OFFSET $4`, all, spProjectID, p.Limit, p.Offset)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				f                 allot.FailedDelivery
				created, done, at int64
			)
			if err := rows.Scan(&f.ID, &f.WebhookID, &f.EventID, &f.EventType, &created, &done, &f.Attempts,
				&at, &f.Last.StatusCode, &f.Last.LatencyMS, &f.Last.Error, &f.URL, &f.ProjectID, &f.SPProjectID); err != nil {
				return err
			}
			f.CreatedAt, f.FailedAt = fromUnix(created), fromMS(done)
			if at != 0 {
				f.Last.At = fromMS(at)
			}
			out = append(out, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: failed deliveries: %w", err)
	}
	return out, count, nil
}

// PruneOutbox deletes a batch of finished deliveries with their attempts,
// then a batch of the events no delivery names, in one transaction. The
// DELETE checks each row's state again when it takes the row's lock, so a
// delivery redelivered meanwhile (pending again) stays.
func (s *Store) PruneOutbox(ctx context.Context, before, now time.Time, limit int) (allot.OutboxPruned, error) {
	var n allot.OutboxPruned
	err := s.withTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		n = allot.OutboxPruned{}
		rows, err := tx.Query(ctx, `DELETE FROM deliveries WHERE id IN (
				SELECT id FROM deliveries WHERE state <> 'pending' AND done_at < $1 ORDER BY done_at LIMIT $2)
				AND state <> 'pending' AND done_at < $1
			RETURNING id`, ms(before), limit)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		n.Deliveries = len(ids)
		if len(ids) > 0 {
			tag, err := tx.Exec(ctx, `DELETE FROM delivery_attempts WHERE delivery_id = ANY($1)`, ids)
			if err != nil {
				return err
			}
			n.Attempts = int(tag.RowsAffected())
		}
		tag, err := tx.Exec(ctx, `DELETE FROM events WHERE id IN (
				SELECT e.id FROM events e WHERE e.at < $1 AND e.keep_until < $2
					AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
				ORDER BY e.at LIMIT $3)`, before.Unix(), now.Unix(), limit)
		if err != nil {
			return err
		}
		n.Events = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return allot.OutboxPruned{}, fmt.Errorf("postgres: prune the outbox: %w", err)
	}
	return n, nil
}
