package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/allot-dev/allot"
)

// pgQuerier is what a settings read needs: the pool or an Update's
// transaction.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// PutSetting writes a setting whole.
func (s *Store) PutSetting(ctx context.Context, st allot.Setting) error {
	return s.putSetting(ctx, st, ` ON CONFLICT (project_id, kind, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`)
}

// InsertSetting adds a setting. ECONFLICT if it exists.
func (s *Store) InsertSetting(ctx context.Context, st allot.Setting) error {
	return s.putSetting(ctx, st, "")
}

func (s *Store) putSetting(ctx context.Context, st allot.Setting, onConflict string) error {
	updated := s.createdAt(st.UpdatedAt)
	err := retry(ctx, conflict, func() error {
		_, err := s.pool.Exec(ctx, `INSERT INTO tenant_settings (project_id, kind, name, value, updated_at) VALUES ($1, $2, $3, $4, $5)`+onConflict,
			st.ProjectID, string(st.Kind), st.Name, string(st.Value), updated)
		return err
	})
	exists := allot.Errorf(allot.ECONFLICT, "project %s has a %s %s already", st.ProjectID, st.Kind, st.Name)
	return mapError(err, map[string]*allot.Error{
		"tenant_settings_project_fk": projectNotFound(st.ProjectID), "23503": projectNotFound(st.ProjectID),
		"tenant_settings_pkey": exists, "23505": exists,
	})
}

// FindSetting returns one setting. ENOTFOUND if there is none.
func (s *Store) FindSetting(ctx context.Context, projectID string, kind allot.SettingKind, name string) (allot.Setting, error) {
	st, ok, err := findSetting(ctx, s.pool, projectID, kind, name)
	if err == nil && !ok {
		err = settingNotFound(projectID, kind, name)
	}
	return st, err
}

func settingNotFound(projectID string, kind allot.SettingKind, name string) error {
	if name == "" {
		return allot.Errorf(allot.ENOTFOUND, "project %s has no %s", projectID, kind)
	}
	return allot.Errorf(allot.ENOTFOUND, "project %s has no %s %s", projectID, kind, name)
}

func findSetting(ctx context.Context, q pgQuerier, projectID string, kind allot.SettingKind, name string) (allot.Setting, bool, error) {
	st := allot.Setting{ProjectID: projectID, Kind: kind, Name: name}
	var value string
	var updated int64
	err := q.QueryRow(ctx, `SELECT value, updated_at FROM tenant_settings WHERE project_id = $1 AND kind = $2 AND name = $3`,
		projectID, string(kind), name).Scan(&value, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.Setting{}, false, nil
	}
	if err != nil {
		return allot.Setting{}, false, fmt.Errorf("postgres: setting: %w", err)
	}
	st.Value, st.UpdatedAt = []byte(value), fromUnix(updated)
	return st, true, nil
}

// ListSettings returns one page of a project's settings of a kind, from one
// snapshot.
func (s *Store) ListSettings(ctx context.Context, projectID string, kind allot.SettingKind, name string, p allot.Page) ([]allot.Setting, int, error) {
	where, args := `project_id = $1 AND kind = $2`, []any{projectID, string(kind)}
	if name != "" {
		where, args = where+` AND name = $3`, append(args, name)
	}
	n := len(args)
	rows, err := s.pool.Query(ctx, `SELECT name, value, updated_at, count(*) OVER () FROM tenant_settings WHERE `+where+
		` ORDER BY name LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: list settings: %w", err)
	}
	defer rows.Close()
	var out []allot.Setting
	count := 0
	for rows.Next() {
		st := allot.Setting{ProjectID: projectID, Kind: kind}
		var value string
		var updated int64
		if err := rows.Scan(&st.Name, &value, &updated, &count); err != nil {
			return nil, 0, fmt.Errorf("postgres: list settings: %w", err)
		}
		st.Value, st.UpdatedAt = []byte(value), fromUnix(updated)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("postgres: list settings: %w", err)
	}
	if len(out) == 0 && p.Offset > 0 {
		// A page past the end has no row to carry the count.
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM tenant_settings WHERE `+where, args...).Scan(&count); err != nil {
			return nil, 0, fmt.Errorf("postgres: count settings: %w", err)
		}
	}
	return out, count, nil
}

// DeleteSetting removes a setting. ENOTFOUND if there is none.
func (s *Store) DeleteSetting(ctx context.Context, projectID string, kind allot.SettingKind, name string) error {
	var n int64
	err := retry(ctx, conflict, func() error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM tenant_settings WHERE project_id = $1 AND kind = $2 AND name = $3`, projectID, string(kind), name)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete setting: %w", err)
	}
	if n == 0 {
		return settingNotFound(projectID, kind, name)
	}
	return nil
}

// UsageEntries returns a page of a project's consume, commit and refund
// entries with their packages' attributes.
func (s *Store) UsageEntries(ctx context.Context, q allot.UsageQuery) ([]allot.UsageEntry, error) {
	if err := allot.ValidateUsageQuery(q); err != nil {
		return nil, err
	}
	query := `SELECT l.seq, l.at, l.op, l.resource_id, l.usage_delta, l.user_id, l.app_user_id,
		r.resource_type, r.business_type, r.sub_resource_type, r.is_sub_resource, r.charging_mode, r.resource_source, r.unit
		FROM ledger l JOIN resources r ON r.project_id = l.project_id AND r.resource_id = l.resource_id
		WHERE l.project_id = $1 AND l.seq > $2 AND l.op IN ('consume', 'commit', 'refund') AND l.usage_delta <> 0`
	args := []any{q.ProjectID, q.AfterSeq}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.From != nil {
		query += ` AND l.at >= ` + arg(q.From.Unix())
	}
	if q.To != nil {
		query += ` AND l.at < ` + arg(q.To.Unix())
	}
	if q.UserID != "" {
		query += ` AND l.user_id = ` + arg(q.UserID)
	}
	query += ` ORDER BY l.seq LIMIT ` + arg(q.Limit)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: usage entries: %w", err)
	}
	defer rows.Close()
	var out []allot.UsageEntry
	for rows.Next() {
		var e allot.UsageEntry
		var at int64
		var op, sub, business, mode, source, unit string
		if err := rows.Scan(&e.Seq, &at, &op, &e.ResourceID, &e.UsageDelta, &e.UserID, &e.AppUserID,
			&e.ResourceType, &business, &sub, &e.IsSubResource, &mode, &source, &unit); err != nil {
			return nil, fmt.Errorf("postgres: usage entries: %w", err)
		}
		e.At, e.Op, e.SubResourceType = fromUnix(at), allot.Op(op), allot.SubResourceType(sub)
		e.BusinessType, e.ChargingMode, e.Source, e.Unit = allot.BusinessType(business), allot.ChargingMode(mode), allot.ResourceSource(source), allot.Unit(unit)
		out = append(out, e)
	}
	return out, rows.Err()
}

// UserCharges returns what a user's entries put on the project's packages.
func (s *Store) UserCharges(ctx context.Context, projectID, userID string) ([]allot.ChargeRow, error) {
	return userCharges(ctx, s.pool, projectID, userID)
}

func userCharges(ctx context.Context, q pgQuerier, projectID, userID string) ([]allot.ChargeRow, error) {
	rows, err := q.Query(ctx, `SELECT r.resource_type, r.business_type, r.sub_resource_type,
		COALESCE(sum(CASE WHEN l.op IN ('consume', 'commit', 'refund') THEN l.usage_delta ELSE 0 END), 0)::BIGINT,
		COALESCE(sum(l.held_delta), 0)::BIGINT
		FROM ledger l JOIN resources r ON r.project_id = l.project_id AND r.resource_id = l.resource_id
		WHERE l.project_id = $1 AND l.user_id = $2 AND l.user_id <> ''
		GROUP BY r.resource_type, r.business_type, r.sub_resource_type
		ORDER BY r.resource_type, r.business_type, r.sub_resource_type`, projectID, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: user charges: %w", err)
	}
	defer rows.Close()
	var out []allot.ChargeRow
	for rows.Next() {
		var c allot.ChargeRow
		var business, sub string
		var usage, held int64
		if err := rows.Scan(&c.ResourceType, &business, &sub, &usage, &held); err != nil {
			return nil, fmt.Errorf("postgres: user charges: %w", err)
		}
		c.BusinessType, c.SubResourceType, c.Usage, c.Held = allot.BusinessType(business), allot.SubResourceType(sub), allot.Quantity(usage), allot.Quantity(held)
		out = append(out, c)
	}
	return out, rows.Err()
}

// The Tx methods of tenant settings.

func (t *pgTx) Setting(projectID string, kind allot.SettingKind, name string) (allot.Setting, bool, error) {
	return findSetting(t.ctx, t.tx, projectID, kind, name)
}

func (t *pgTx) UserCharges(projectID, userID string) ([]allot.ChargeRow, error) {
	return userCharges(t.ctx, t.tx, projectID, userID)
}

func (t *pgTx) LiveResources(projectID string) ([]allot.Resource, error) {
	return t.resources(`SELECT `+resourceColumns+` FROM resources WHERE project_id = $1 AND NOT removed ORDER BY seq`, projectID)
}
