package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/allot-dev/allot"
	sqlite3 "modernc.org/sqlite/lib"
)

// PutCatalog implements allot.Orders: the catalog's rows are replaced in
// one transaction.
func (s *Store) PutCatalog(ctx context.Context, specs []allot.CatalogSpec) error {
	if err := allot.ValidateCatalog(specs); err != nil {
		return err
	}
	rows := make([][]byte, len(specs))
	for i := range specs {
		b, err := json.Marshal(specs[i])
		if err != nil {
			return fmt.Errorf("sqlite: encode spec %s: %w", specs[i].SpecCode, err)
		}
		rows[i] = b
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM catalog_specs`); err != nil {
			return fmt.Errorf("sqlite: clear catalog: %w", err)
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO catalog_specs (spec_code, spec) VALUES (?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: insert catalog: %w", err)
		}
		defer st.Close()
		for i := range specs {
			if _, err := st.ExecContext(ctx, specs[i].SpecCode, string(rows[i])); err != nil {
				return fmt.Errorf("sqlite: insert spec %s: %w", specs[i].SpecCode, err)
			}
		}
		return nil
	})
}

// Catalog implements allot.Orders.
func (s *Store) Catalog(ctx context.Context) ([]allot.CatalogSpec, error) {
	specs := []allot.CatalogSpec{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT spec FROM catalog_specs ORDER BY spec_code`)
		if err != nil {
			return fmt.Errorf("sqlite: read catalog: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				return fmt.Errorf("sqlite: read catalog: %w", err)
			}
			var c allot.CatalogSpec
			if err := json.Unmarshal(b, &c); err != nil {
				return fmt.Errorf("sqlite: decode catalog spec: %w", err)
			}
			specs = append(specs, c)
		}
		return rows.Err()
	})
	return specs, err
}

// FindOrder implements allot.Orders.
func (s *Store) FindOrder(ctx context.Context, projectID, orderID string) (allot.Order, error) {
	var o allot.Order
	err := s.read(ctx, func(tx *sql.Tx) (err error) {
		o, err = findOrder(ctx, tx.QueryRowContext(ctx, orderQuery, projectID, orderID), projectID, orderID)
		return err
	})
	return o, err
}

const orderQuery = `SELECT order_type, created_at, lines FROM orders WHERE project_id = ? AND order_id = ?`

func findOrder(_ context.Context, row *sql.Row, projectID, orderID string) (allot.Order, error) {
	o := allot.Order{ProjectID: projectID, OrderID: orderID}
	var created int64
	var lines []byte
	err := row.Scan(&o.Type, &created, &lines)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.Order{}, allot.Errorf(allot.ENOTFOUND, "order %s of project %s does not exist", orderID, projectID)
	}
	if err != nil {
		return allot.Order{}, fmt.Errorf("sqlite: order %s/%s: %w", projectID, orderID, err)
	}
	if err := json.Unmarshal(lines, &o.Lines); err != nil {
		return allot.Order{}, fmt.Errorf("sqlite: decode order %s/%s: %w", projectID, orderID, err)
	}
	o.CreatedAt = fromUnix(created)
	return o, nil
}

// OrderResources implements allot.Orders.
func (s *Store) OrderResources(ctx context.Context, q allot.OrderResourceQuery) ([]allot.Resource, error) {
	ids, err := json.Marshal(q.ResourceIDs)
	if err != nil {
		return nil, err
	}
	var rs []allot.Resource
	err = s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+resourceSelect+` FROM resources
			WHERE project_id = ? AND order_id <> '' AND (? = '' OR order_id = ?)
			AND (? = 0 OR resource_id IN (SELECT value FROM json_each(?)))
			ORDER BY seq`, q.ProjectID, q.OrderID, q.OrderID, len(q.ResourceIDs), string(ids))
		if err != nil {
			return fmt.Errorf("sqlite: resources of orders of %s: %w", q.ProjectID, err)
		}
		rs, err = scanResources(rows, q.ProjectID, 0)
		return err
	})
	return rs, err
}

// CatalogSpec implements allot.Tx.
func (t *sqliteTx) CatalogSpec(code string) (allot.CatalogSpec, error) {
	var b []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT spec FROM catalog_specs WHERE spec_code = ?`, code).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return allot.CatalogSpec{}, allot.Errorf(allot.ENOTFOUND, "spec %s is not in the catalog", code)
	}
	if err != nil {
		return allot.CatalogSpec{}, fmt.Errorf("sqlite: catalog spec %s: %w", code, err)
	}
	var c allot.CatalogSpec
	if err := json.Unmarshal(b, &c); err != nil {
		return allot.CatalogSpec{}, fmt.Errorf("sqlite: decode catalog spec %s: %w", code, err)
	}
	return c, nil
}

// Order implements allot.Tx.
func (t *sqliteTx) Order(projectID, orderID string) (allot.Order, error) {
	return findOrder(t.ctx, t.tx.QueryRowContext(t.ctx, orderQuery, projectID, orderID), projectID, orderID)
}

// InsertOrder implements allot.Tx.
func (t *sqliteTx) InsertOrder(o allot.Order) error {
	if _, err := t.holding("saving order "+o.OrderID, o.ProjectID); err != nil {
		return err
	}
	lines, err := json.Marshal(o.Lines)
	if err != nil {
		return fmt.Errorf("sqlite: encode order %s: %w", o.OrderID, err)
	}
	_, err = t.tx.ExecContext(t.ctx, `INSERT INTO orders (order_id, project_id, order_type, created_at, lines) VALUES (?, ?, ?, ?, ?)`,
		o.OrderID, o.ProjectID, int32(o.Type), o.CreatedAt.Unix(), string(lines))
	switch constraint(err) {
	case 0:
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return allot.Errorf(allot.ECONFLICT, "order %s exists already", o.OrderID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: insert order %s: %w", o.OrderID, err)
	}
	return nil
}

// OrderResourcesPage returns one page of a project's ordered packages, in
// seq order, and their count.
func (s *Store) OrderResourcesPage(ctx context.Context, q allot.OrderResourceQuery, p allot.Page) ([]allot.Resource, int, error) {
	ids, err := json.Marshal(q.ResourceIDs)
	if err != nil {
		return nil, 0, err
	}
	var (
		rs    []allot.Resource
		count int
	)
	const where = ` FROM resources WHERE project_id = ? AND order_id <> '' AND (? = '' OR order_id = ?)
			AND (? = 0 OR resource_id IN (SELECT value FROM json_each(?)))`
	args := []any{q.ProjectID, q.OrderID, q.OrderID, len(q.ResourceIDs), string(ids)}
	err = s.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*)`+where, args...).Scan(&count); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+resourceSelect+where+` ORDER BY seq LIMIT ? OFFSET ?`, append(args, p.Limit, p.Offset)...)
		if err != nil {
			return err
		}
		rs, err = scanResources(rows, q.ProjectID, 0)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: a page of the resources of orders of %s: %w", q.ProjectID, err)
	}
	return rs, count, nil
}
