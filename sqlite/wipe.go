package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Wipe implements allot.Store: it deletes the rows of every table the
// catalog lists but schema_migrations, with foreign keys checked at commit
// so the order of the deletes does not matter.
func (s *Store) Wipe(ctx context.Context) error {
	defer s.openRsv.Forget()
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT name FROM sqlite_schema
			WHERE type = 'table' AND name <> 'schema_migrations' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
		if err != nil {
			return err
		}
		var tables []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				rows.Close()
				return err
			}
			tables = append(tables, name)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		// AUTOINCREMENT counters start over too, as in a new database.
		var hasSeq bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence')`).Scan(&hasSeq); err != nil {
			return err
		}
		if hasSeq {
			tables = append(tables, "sqlite_sequence")
		}
		for _, t := range tables {
			if _, err := tx.ExecContext(ctx, `DELETE FROM "`+t+`"`); err != nil {
				return fmt.Errorf("wipe %s: %w", t, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: wipe: %w", err)
	}
	s.revocations.Add(1)
	return nil
}
