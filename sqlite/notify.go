package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot"

	sqlite3 "modernc.org/sqlite/lib"
)

// Notifications: notice configurations, webhooks and the outbox
// (allot.Notices and allot.NoticeTx). Every write takes the writer
// connection, so claims of deliveries are serialized like every other
// write: two dispatchers on one file never hold the same delivery.

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ms(t time.Time) int64         { return t.UnixMilli() }
func fromMS(v int64) time.Time     { return time.UnixMilli(v).UTC() }
func eventList(es []string) string { return "," + strings.Join(es, ",") + "," }
func fromEventList(s string) []string {
	return strings.Split(strings.Trim(s, ","), ",")
}

// SetNoticeConfig creates or replaces a project's notice configuration.
func (s *Store) SetNoticeConfig(ctx context.Context, c allot.NoticeConfig) error {
	updated := s.now(c.UpdatedAt).Unix()
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO notice_configs (project_id, type, send_msg, properties, updated_at)
			SELECT id, ?, ?, ?, ? FROM projects WHERE id = ?
			ON CONFLICT (project_id, type) DO UPDATE SET send_msg = excluded.send_msg,
				properties = excluded.properties, updated_at = excluded.updated_at`,
			string(c.Type), boolInt(c.SendMsg), c.Properties, updated, c.ProjectID)
		if err != nil {
			return fmt.Errorf("sqlite: set notice configuration: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return projectNotFound(c.ProjectID)
		}
		return nil
	})
}

// FindNoticeConfig returns a project's configuration of one type.
func (s *Store) FindNoticeConfig(ctx context.Context, projectID string, t allot.NoticeType) (allot.NoticeConfig, error) {
	c := allot.NoticeConfig{ProjectID: projectID, Type: t}
	var (
		props   sql.NullString
		updated int64
	)
	err := s.r.QueryRowContext(ctx, `SELECT send_msg, properties, updated_at FROM notice_configs WHERE project_id = ? AND type = ?`,
		projectID, string(t)).Scan(&c.SendMsg, &props, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.NoticeConfig{}, allot.Errorf(allot.ENOTFOUND, "project %s has no %s notice configuration", projectID, t)
	}
	if err != nil {
		return allot.NoticeConfig{}, fmt.Errorf("sqlite: find notice configuration: %w", err)
	}
	if props.Valid {
		c.Properties = &props.String
	}
	c.UpdatedAt = fromUnix(updated)
	return c, nil
}

// ExpiryCandidates returns the live packages expiring in [from, to] of the
// projects with a RESOURCE_EXPIRE configuration.
func (s *Store) ExpiryCandidates(ctx context.Context, from, to time.Time) ([]allot.ExpiryCandidate, error) {
	var out []allot.ExpiryCandidate
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT c.project_id, c.send_msg, c.properties, c.updated_at, p.sp_project_id
			FROM notice_configs c JOIN projects p ON p.id = c.project_id WHERE c.type = 'RESOURCE_EXPIRE' ORDER BY c.project_id`)
		if err != nil {
			return err
		}
		var cfgs []allot.ExpiryCandidate
		for rows.Next() {
			var (
				c       allot.ExpiryCandidate
				props   sql.NullString
				updated int64
				sp      sql.NullString
			)
			if err := rows.Scan(&c.Config.ProjectID, &c.Config.SendMsg, &props, &updated, &sp); err != nil {
				rows.Close()
				return err
			}
			c.Config.Type = allot.NoticeResourceExpire
			if props.Valid {
				c.Config.Properties = &props.String
			}
			c.Config.UpdatedAt, c.SPProjectID = fromUnix(updated), sp.String
			cfgs = append(cfgs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range cfgs {
			rows, err := tx.QueryContext(ctx, `SELECT `+resourceSelect+` FROM resources
				WHERE project_id = ? AND removed = 0 AND expire_time BETWEEN ? AND ? ORDER BY seq`,
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
		return nil, fmt.Errorf("sqlite: expiry candidates: %w", err)
	}
	return out, nil
}

const webhookColumns = `id, url, events, project_id, sp_project_id, secret_ciphertext, created_at`

func scanWebhook(row interface{ Scan(...any) error }) (allot.Webhook, error) {
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
	created := s.now(w.CreatedAt).Unix()
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.URL, eventList(w.Events), w.ProjectID, w.SPProjectID, w.SecretCiphertext, created)
		if constraint(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return allot.Errorf(allot.ECONFLICT, "webhook %s exists already", w.ID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert webhook: %w", err)
		}
		return nil
	})
}

// FindWebhook returns a webhook.
func (s *Store) FindWebhook(ctx context.Context, id string) (allot.Webhook, error) {
	w, err := scanWebhook(s.r.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return allot.Webhook{}, allot.Errorf(allot.ENOTFOUND, "webhook %s does not exist", id)
	}
	if err != nil {
		return allot.Webhook{}, fmt.Errorf("sqlite: find webhook: %w", err)
	}
	return w, nil
}

// ListWebhooks returns one owner's webhooks, or every webhook when all.
func (s *Store) ListWebhooks(ctx context.Context, spProjectID string, all bool) ([]allot.Webhook, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE ? OR sp_project_id = ? ORDER BY id`, all, spProjectID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list webhooks: %w", err)
	}
	defer rows.Close()
	out := []allot.Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// DeleteWebhook removes a webhook with its deliveries and their attempts.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("sqlite: delete webhook: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return allot.Errorf(allot.ENOTFOUND, "webhook %s does not exist", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE webhook_id = ?)`, id); err != nil {
			return fmt.Errorf("sqlite: delete webhook: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE webhook_id = ?`, id); err != nil {
			return fmt.Errorf("sqlite: delete webhook: %w", err)
		}
		return nil
	})
}

// Deliveries returns a webhook's deliveries, newest first, with attempts.
func (s *Store) Deliveries(ctx context.Context, webhookID string, limit int) ([]allot.Delivery, error) {
	out := []allot.Delivery{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, event_id, event_type, state, created_at, next_at, delivered_at
			FROM deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, webhookID, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			d := allot.Delivery{WebhookID: webhookID, Attempts: []allot.Attempt{}}
			var (
				created, next int64
				delivered     sql.NullInt64
			)
			if err := rows.Scan(&d.ID, &d.EventID, &d.EventType, &d.State, &created, &next, &delivered); err != nil {
				rows.Close()
				return err
			}
			d.CreatedAt = fromUnix(created)
			if d.State == allot.DeliveryPending {
				d.NextAt = fromMS(next)
			}
			if delivered.Valid {
				d.DeliveredAt = fromMS(delivered.Int64)
			}
			out = append(out, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			rows, err := tx.QueryContext(ctx, `SELECT at, status_code, latency_ms, error FROM delivery_attempts
				WHERE delivery_id = ? ORDER BY n`, out[i].ID)
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
		return nil, fmt.Errorf("sqlite: deliveries: %w", err)
	}
	return out, nil
}

// Redeliver makes a delivery pending again, due at now.
func (s *Store) Redeliver(ctx context.Context, webhookID, deliveryID string, now time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'pending', next_at = ?, lease_until = 0, claim = '', done_at = 0
			WHERE webhook_id = ? AND id = ?`, ms(now), webhookID, deliveryID)
		if err != nil {
			return fmt.Errorf("sqlite: redeliver: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return allot.Errorf(allot.ENOTFOUND, "webhook %s has no delivery %s", webhookID, deliveryID)
		}
		return nil
	})
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

// ClaimDeliveries leases due deliveries. The writer connection serializes
// claims, so a delivery leased by one is skipped by the next.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]allot.Claim, error) {
	var out []allot.Claim
	token := claimToken()
	until := now.Add(lease)
	err := s.write(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, `UPDATE deliveries SET lease_until = ?, claim = ?
			WHERE id IN (SELECT id FROM deliveries WHERE state = 'pending' AND next_at <= ? AND lease_until <= ? ORDER BY next_at LIMIT ?)
			RETURNING id, webhook_id, event_id, created_at, attempts`, ms(until), token, ms(now), ms(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			c := allot.Claim{Token: token, Until: until}
			var created int64
			if err := rows.Scan(&c.DeliveryID, &c.WebhookID, &c.EventID, &created, &c.Attempts); err != nil {
				rows.Close()
				return err
			}
			c.CreatedAt = fromUnix(created)
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			c := &out[i]
			err := tx.QueryRowContext(ctx, `SELECT w.url, w.secret_ciphertext, e.body FROM webhooks w, events e WHERE w.id = ? AND e.id = ?`,
				c.WebhookID, c.EventID).Scan(&c.URL, &c.SecretCiphertext, &c.Body)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim deliveries: %w", err)
	}
	return out, nil
}

// RecordAttempt appends an attempt to a delivery still claimed by c.
func (s *Store) RecordAttempt(ctx context.Context, c allot.Claim, o allot.AttemptOutcome) (bool, error) {
	recorded := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		recorded = false
		var delivered sql.NullInt64
		if o.State == allot.DeliveryDelivered {
			delivered = sql.NullInt64{Int64: ms(o.At), Valid: true}
		}
		var n int
		err := tx.QueryRowContext(ctx, `UPDATE deliveries SET attempts = attempts + 1, state = ?, next_at = ?, lease_until = 0, claim = '',
				delivered_at = COALESCE(?, delivered_at), done_at = ?
			WHERE id = ? AND claim = ? RETURNING attempts`,
			string(o.State), ms(o.NextAt), delivered, doneAt(o), c.DeliveryID, c.Token).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, n, at, status_code, latency_ms, error) VALUES (?, ?, ?, ?, ?, ?)`,
			c.DeliveryID, n, ms(o.At), o.StatusCode, o.LatencyMS, o.Error); err != nil {
			return err
		}
		recorded = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: record attempt: %w", err)
	}
	return recorded, nil
}

// OutboxStats counts the pending deliveries.
func (s *Store) OutboxStats(ctx context.Context) (allot.OutboxStats, error) {
	var (
		st     allot.OutboxStats
		oldest sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM deliveries WHERE state = 'pending'`).Scan(&st.Pending, &oldest)
	if err != nil {
		return st, fmt.Errorf("sqlite: outbox stats: %w", err)
	}
	if oldest.Valid {
		st.Oldest = fromUnix(oldest.Int64)
	}
	return st, nil
}

// NoticeConfigs returns a project's notice configurations, read once per
// group (see groupTx).
func (t *sqliteTx) NoticeConfigs(projectID string) ([]allot.NoticeConfig, error) {
	if cs, ok := t.group.notices[projectID]; ok {
		return slices.Clone(cs), nil
	}
	cs, err := t.noticeConfigs(projectID)
	if err != nil {
		return nil, err
	}
	if t.group.notices == nil {
		t.group.notices = make(map[string][]allot.NoticeConfig, 1)
	}
	t.group.notices[projectID] = slices.Clone(cs)
	return cs, nil
}

func (t *sqliteTx) noticeConfigs(projectID string) ([]allot.NoticeConfig, error) {
	rows, err := t.stmt(stNoticeConfigs).QueryContext(t.ctx, projectID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: notice configurations of %s: %w", projectID, err)
	}
	defer rows.Close()
	var out []allot.NoticeConfig
	for rows.Next() {
		c := allot.NoticeConfig{ProjectID: projectID}
		var (
			props   sql.NullString
			updated int64
		)
		if err := rows.Scan(&c.Type, &c.SendMsg, &props, &updated); err != nil {
			return nil, fmt.Errorf("sqlite: notice configurations of %s: %w", projectID, err)
		}
		if props.Valid {
			c.Properties = &props.String
		}
		c.UpdatedAt = fromUnix(updated)
		out = append(out, c)
	}
	return out, rows.Err()
}

// InsertEvent writes an event and a delivery per subscribed webhook.
func (t *sqliteTx) InsertEvent(ev allot.Event, body []byte) (bool, error) {
	if _, err := t.holding("an event", ev.ProjectID); err != nil {
		return false, err
	}
	res, err := t.tx.ExecContext(t.ctx, `INSERT INTO events (id, project_id, type, at, body, keep_until) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		ev.ID, ev.ProjectID, ev.Type, ev.At.Unix(), body, keepUntil(ev))
	if err != nil {
		return false, fmt.Errorf("sqlite: insert event: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	_, err = t.tx.ExecContext(t.ctx, `INSERT INTO deliveries (id, webhook_id, event_id, event_type, state, created_at, next_at)
		SELECT ?1 || '.' || id, id, ?1, ?2, 'pending', ?3, ?4 FROM webhooks
		WHERE instr(events, ',' || ?2 || ',') > 0
			AND (project_id = ?5 OR project_id = '' AND (sp_project_id = '' OR sp_project_id = ?6 OR sp_project_id = ?5))`,
		ev.ID, ev.Type, ev.At.Unix(), ms(t.now), ev.ProjectID, ev.SPProjectID)
	if err != nil {
		return false, fmt.Errorf("sqlite: insert deliveries: %w", err)
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
	err := s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id
			WHERE d.state = 'failed' AND (? OR w.sp_project_id = ?)`, all, spProjectID).Scan(&count); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, failedSelect+`
			WHERE d.state = 'failed' AND (? OR w.sp_project_id = ?)
			ORDER BY d.done_at DESC, d.id DESC LIMIT ? OFFSET ?`, all, spProjectID, p.Limit, p.Offset)
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
		return nil, 0, fmt.Errorf("sqlite: failed deliveries: %w", err)
	}
	return out, count, nil
}

// PruneOutbox deletes a batch of finished deliveries with their attempts,
// then a batch of the events no delivery names, in one write transaction.
func (s *Store) PruneOutbox(ctx context.Context, before, now time.Time, limit int) (allot.OutboxPruned, error) {
	var n allot.OutboxPruned
	err := s.write(ctx, func(tx *sql.Tx) error {
		n = allot.OutboxPruned{}
		rows, err := tx.QueryContext(ctx, `DELETE FROM deliveries WHERE id IN (
				SELECT id FROM deliveries WHERE state <> 'pending' AND done_at < ? ORDER BY done_at LIMIT ?)
			RETURNING id`, ms(before), limit)
		if err != nil {
			return err
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n.Deliveries = len(ids)
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), 100)]
			ids = ids[len(chunk):]
			res, err := tx.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, chunk...)
			if err != nil {
				return err
			}
			a, _ := res.RowsAffected()
			n.Attempts += int(a)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (
				SELECT e.id FROM events e WHERE e.at < ? AND e.keep_until < ?
					AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
				ORDER BY e.at LIMIT ?)`, before.Unix(), now.Unix(), limit)
		if err != nil {
			return err
		}
		e, _ := res.RowsAffected()
		n.Events = int(e)
		return nil
	})
	if err != nil {
		return allot.OutboxPruned{}, fmt.Errorf("sqlite: prune the outbox: %w", err)
	}
	return n, nil
}
