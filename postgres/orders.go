package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

// PutCatalog implements allot.Orders: the catalog's rows are replaced in
// one transaction.
func (s *Store) PutCatalog(ctx context.Context, specs []allot.CatalogSpec) error {
	if err := allot.ValidateCatalog(specs); err != nil {
		return err
	}
	codes, docs := make([]string, len(specs)), make([]string, len(specs))
	for i := range specs {
		b, err := json.Marshal(specs[i])
		if err != nil {
			return fmt.Errorf("postgres: encode spec %s: %w", specs[i].SpecCode, err)
		}
		codes[i], docs[i] = specs[i].SpecCode, string(b)
	}
	return s.withTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM catalog_specs`); err != nil {
			return fmt.Errorf("postgres: clear catalog: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO catalog_specs (spec_code, spec) SELECT * FROM unnest($1::TEXT[], $2::TEXT[])`, codes, docs); err != nil {
			return fmt.Errorf("postgres: insert catalog: %w", err)
		}
		return nil
	})
}

// Catalog implements allot.Orders.
func (s *Store) Catalog(ctx context.Context) ([]allot.CatalogSpec, error) {
	rows, err := s.pool.Query(ctx, `SELECT spec FROM catalog_specs ORDER BY spec_code`)
	if err != nil {
		return nil, fmt.Errorf("postgres: read catalog: %w", err)
	}
	defer rows.Close()
	specs := []allot.CatalogSpec{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("postgres: read catalog: %w", err)
		}
		var c allot.CatalogSpec
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("postgres: decode catalog spec: %w", err)
		}
		specs = append(specs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read catalog: %w", err)
	}
	return specs, nil
}

const orderQuery = `SELECT order_type, created_at, lines FROM orders WHERE project_id = $1 AND order_id = $2`

// FindOrder implements allot.Orders.
func (s *Store) FindOrder(ctx context.Context, projectID, orderID string) (allot.Order, error) {
	return scanOrder(s.pool.QueryRow(ctx, orderQuery, projectID, orderID), projectID, orderID)
}

func scanOrder(row pgx.Row, projectID, orderID string) (allot.Order, error) {
	o := allot.Order{ProjectID: projectID, OrderID: orderID}
	var typ int32
	var created int64
	var lines []byte
	err := row.Scan(&typ, &created, &lines)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.Order{}, allot.Errorf(allot.ENOTFOUND, "order %s of project %s does not exist", orderID, projectID)
	}
	if err != nil {
		return allot.Order{}, fmt.Errorf("postgres: order %s/%s: %w", projectID, orderID, err)
	}
	if err := json.Unmarshal(lines, &o.Lines); err != nil {
		return allot.Order{}, fmt.Errorf("postgres: decode order %s/%s: %w", projectID, orderID, err)
	}
	o.Type, o.CreatedAt = allot.OrderType(typ), fromUnix(created)
	return o, nil
}

// OrderResources implements allot.Orders.
func (s *Store) OrderResources(ctx context.Context, q allot.OrderResourceQuery) ([]allot.Resource, error) {
	ids := q.ResourceIDs
	if ids == nil {
		ids = []string{}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+resourceColumns+` FROM resources
		WHERE project_id = $1 AND order_id <> '' AND ($2 = '' OR order_id = $2)
		AND (cardinality($3::TEXT[]) = 0 OR resource_id = ANY($3::TEXT[]))
		ORDER BY seq`, q.ProjectID, q.OrderID, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: resources of orders of %s: %w", q.ProjectID, err)
	}
	return scanResources(rows, q.ProjectID, 0)
}

// CatalogSpec implements allot.Tx.
func (t *pgTx) CatalogSpec(code string) (allot.CatalogSpec, error) {
	var b []byte
	err := t.tx.QueryRow(t.ctx, `SELECT spec FROM catalog_specs WHERE spec_code = $1`, code).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.CatalogSpec{}, allot.Errorf(allot.ENOTFOUND, "spec %s is not in the catalog", code)
	}
	if err != nil {
		return allot.CatalogSpec{}, fmt.Errorf("postgres: catalog spec %s: %w", code, err)
	}
	var c allot.CatalogSpec
	if err := json.Unmarshal(b, &c); err != nil {
		return allot.CatalogSpec{}, fmt.Errorf("postgres: decode catalog spec %s: %w", code, err)
	}
	return c, nil
}

// Order implements allot.Tx.
func (t *pgTx) Order(projectID, orderID string) (allot.Order, error) {
	return scanOrder(t.tx.QueryRow(t.ctx, orderQuery, projectID, orderID), projectID, orderID)
}

// InsertOrder implements allot.Tx.
func (t *pgTx) InsertOrder(o allot.Order) error {
	if _, err := t.holding("saving order "+o.OrderID, o.ProjectID); err != nil {
		return err
	}
	lines, err := json.Marshal(o.Lines)
	if err != nil {
		return fmt.Errorf("postgres: encode order %s: %w", o.OrderID, err)
	}
	_, err = t.tx.Exec(t.ctx, `INSERT INTO orders (order_id, project_id, order_type, created_at, lines) VALUES ($1, $2, $3, $4, $5)`,
		o.OrderID, o.ProjectID, int32(o.Type), o.CreatedAt.Unix(), string(lines))
	if err != nil {
		return mapError(err, map[string]*allot.Error{
			"orders_pkey": allot.Errorf(allot.ECONFLICT, "order %s exists already", o.OrderID),
			"23505":       allot.Errorf(allot.ECONFLICT, "order %s exists already", o.OrderID),
		})
	}
	return nil
}

// OrderResourcesPage returns one page of a project's ordered packages, in
// seq order, and their count, from one snapshot.
func (s *Store) OrderResourcesPage(ctx context.Context, q allot.OrderResourceQuery, p allot.Page) ([]allot.Resource, int, error) {
	ids := q.ResourceIDs
	if ids == nil {
		ids = []string{}
	}
	const where = ` FROM resources WHERE project_id = $1 AND order_id <> '' AND ($2 = '' OR order_id = $2)
		AND (cardinality($3::TEXT[]) = 0 OR resource_id = ANY($3::TEXT[]))`
	var (
		rs    []allot.Resource
		count int
	)
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COUNT(*)`+where, q.ProjectID, q.OrderID, ids).Scan(&count); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+resourceColumns+where+` ORDER BY seq LIMIT $4 OFFSET $5`, q.ProjectID, q.OrderID, ids, p.Limit, p.Offset)
		if err != nil {
			return err
		}
		rs, err = scanResources(rows, q.ProjectID, 0)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: a page of the resources of orders of %s: %w", q.ProjectID, err)
	}
	return rs, count, nil
}
