package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Wipe implements allot.Store: one TRUNCATE of every table of the store's
// schema that the catalog lists but schema_migrations. One statement over
// all of them needs no order among their foreign keys.
func (s *Store) Wipe(ctx context.Context) error {
	defer s.open.Forget()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT tablename FROM pg_catalog.pg_tables
			WHERE schemaname = current_schema() AND tablename <> 'schema_migrations' ORDER BY tablename`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(tables) == 0 {
			return nil
		}
		quoted := make([]string, len(tables))
		for i, t := range tables {
			quoted[i] = pgx.Identifier{t}.Sanitize()
		}
		_, err = tx.Exec(ctx, `TRUNCATE `+strings.Join(quoted, ", ")+` RESTART IDENTITY`)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: wipe: %w", err)
	}
	s.revocations.Add(1)
	return nil
}
