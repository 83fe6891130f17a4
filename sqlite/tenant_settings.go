package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/allot-dev/allot"

	sqlite3 "modernc.org/sqlite/lib"
)

// rowQuerier is what a settings read needs: the read pool or a write
// transaction.
type rowQuerier interface {
	querier
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
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
	updated := s.now(st.UpdatedAt).Unix()
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenant_settings (project_id, kind, name, value, updated_at) VALUES (?, ?, ?, ?, ?)`+onConflict,
			st.ProjectID, string(st.Kind), st.Name, string(st.Value), updated)
		switch constraint(err) {
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return projectNotFound(st.ProjectID)
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return allot.Errorf(allot.ECONFLICT, "project %s has a %s %s already", st.ProjectID, st.Kind, st.Name)
		}
		if err != nil {
			return fmt.Errorf("sqlite: put setting: %w", err)
		}
		return nil
	})
}

// FindSetting returns one setting. ENOTFOUND if there is none.
func (s *Store) FindSetting(ctx context.Context, projectID string, kind allot.SettingKind, name string) (allot.Setting, error) {
	st, ok, err := findSetting(ctx, s.r, projectID, kind, name)
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

func findSetting(ctx context.Context, q rowQuerier, projectID string, kind allot.SettingKind, name string) (allot.Setting, bool, error) {
	st := allot.Setting{ProjectID: projectID, Kind: kind, Name: name}
	var value string
	var updated int64
	err := q.QueryRowContext(ctx, `SELECT value, updated_at FROM tenant_settings WHERE project_id = ? AND kind = ? AND name = ?`,
		projectID, string(kind), name).Scan(&value, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.Setting{}, false, nil
	}
	if err != nil {
		return allot.Setting{}, false, fmt.Errorf("sqlite: setting: %w", err)
	}
	st.Value, st.UpdatedAt = []byte(value), fromUnix(updated)
	return st, true, nil
}

// ListSettings returns one page of a project's settings of a kind.
func (s *Store) ListSettings(ctx context.Context, projectID string, kind allot.SettingKind, name string, p allot.Page) ([]allot.Setting, int, error) {
	var out []allot.Setting
	var count int
	err := s.read(ctx, func(tx *sql.Tx) error {
		where, args := `project_id = ? AND kind = ?`, []any{projectID, string(kind)}
		if name != "" {
			where, args = where+` AND name = ?`, append(args, name)
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tenant_settings WHERE `+where, args...).Scan(&count); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT name, value, updated_at FROM tenant_settings WHERE `+where+` ORDER BY name LIMIT ? OFFSET ?`,
			append(args, p.Limit, p.Offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			st := allot.Setting{ProjectID: projectID, Kind: kind}
			var value string
			var updated int64
			if err := rows.Scan(&st.Name, &value, &updated); err != nil {
				return err
			}
			st.Value, st.UpdatedAt = []byte(value), fromUnix(updated)
			out = append(out, st)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: list settings: %w", err)
	}
	return out, count, nil
}

// DeleteSetting removes a setting. ENOTFOUND if there is none.
func (s *Store) DeleteSetting(ctx context.Context, projectID string, kind allot.SettingKind, name string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tenant_settings WHERE project_id = ? AND kind = ? AND name = ?`, projectID, string(kind), name)
		if err != nil {
			return fmt.Errorf("sqlite: delete setting: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return fmt.Errorf("sqlite: delete setting: %w", err)
			}
			return settingNotFound(projectID, kind, name)
		}
		return nil
	})
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
		WHERE l.project_id = ? AND l.seq > ? AND l.op IN ('consume', 'commit', 'refund') AND l.usage_delta <> 0`
	args := []any{q.ProjectID, q.AfterSeq}
	if q.From != nil {
		query, args = query+` AND l.at >= ?`, append(args, q.From.Unix())
	}
	if q.To != nil {
		query, args = query+` AND l.at < ?`, append(args, q.To.Unix())
	}
	if q.UserID != "" {
		query, args = query+` AND l.user_id = ?`, append(args, q.UserID)
	}
	rows, err := s.r.QueryContext(ctx, query+` ORDER BY l.seq LIMIT ?`, append(args, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: usage entries: %w", err)
	}
	defer rows.Close()
	var out []allot.UsageEntry
	for rows.Next() {
		var e allot.UsageEntry
		var at int64
		var sub string
		if err := rows.Scan(&e.Seq, &at, &e.Op, &e.ResourceID, &e.UsageDelta, &e.UserID, &e.AppUserID,
			&e.ResourceType, &e.BusinessType, &sub, &e.IsSubResource, &e.ChargingMode, &e.Source, &e.Unit); err != nil {
			return nil, fmt.Errorf("sqlite: usage entries: %w", err)
		}
		e.At, e.SubResourceType = fromUnix(at), allot.SubResourceType(sub)
		out = append(out, e)
	}
	return out, rows.Err()
}

// UserCharges returns what a user's entries put on the project's packages.
func (s *Store) UserCharges(ctx context.Context, projectID, userID string) ([]allot.ChargeRow, error) {
	return userCharges(ctx, s.r, projectID, userID)
}

func userCharges(ctx context.Context, q querier, projectID, userID string) ([]allot.ChargeRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.resource_type, r.business_type, r.sub_resource_type,
		sum(CASE WHEN l.op IN ('consume', 'commit', 'refund') THEN l.usage_delta ELSE 0 END), sum(l.held_delta)
		FROM ledger l JOIN resources r ON r.project_id = l.project_id AND r.resource_id = l.resource_id
		WHERE l.project_id = ? AND l.user_id = ? AND l.user_id <> ''
		GROUP BY r.resource_type, r.business_type, r.sub_resource_type
		ORDER BY r.resource_type, r.business_type, r.sub_resource_type`, projectID, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: user charges: %w", err)
	}
	defer rows.Close()
	var out []allot.ChargeRow
	for rows.Next() {
		var c allot.ChargeRow
		var sub string
		if err := rows.Scan(&c.ResourceType, &c.BusinessType, &sub, &c.Usage, &c.Held); err != nil {
			return nil, fmt.Errorf("sqlite: user charges: %w", err)
		}
		c.SubResourceType = allot.SubResourceType(sub)
		out = append(out, c)
	}
	return out, rows.Err()
}

// The Tx methods of tenant settings.

func (t *sqliteTx) Setting(projectID string, kind allot.SettingKind, name string) (allot.Setting, bool, error) {
	return findSetting(t.ctx, t.tx, projectID, kind, name)
}

func (t *sqliteTx) UserCharges(projectID, userID string) ([]allot.ChargeRow, error) {
	return userCharges(t.ctx, t.tx, projectID, userID)
}

func (t *sqliteTx) LiveResources(projectID string) ([]allot.Resource, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+resourceSelect+` FROM resources WHERE project_id = ? AND removed = 0 ORDER BY seq`, projectID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: resources of %s: %w", projectID, err)
	}
	rs, err := scanResources(rows, projectID, 0)
	for _, r := range rs {
		t.remember(r)
	}
	return rs, err
}
