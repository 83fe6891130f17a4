package sqlite

import (
	"context"
	"database/sql"
)

// WriterOf returns a store's writer pool, for tests that write raw SQL
// under the store.
func WriterOf(s *Store) *sql.DB { return s.w }

// SchemaVersion is the schema version this build's migrations create.
func SchemaVersion() (int, error) { return schemaVersion() }

// MigrateTo creates the database file at path, or migrates it, up to
// schema version version only: a database as an older build left it.
func MigrateTo(ctx context.Context, path string, version int) error {
	db, err := sql.Open("sqlite", path+"?_busy_timeout=10000&_foreign_keys=1&_txlock=immediate")
	if err != nil {
		return err
	}
	defer db.Close()
	return migrateTo(ctx, db, version)
}

// WithoutPacks deletes every tenant pack and keeps the store from writing
// new ones: its full reads are column reads.
func WithoutPacks(s *Store) error {
	s.packs.Wait()
	s.packMin = 1 << 30
	_, err := s.w.Exec(`DELETE FROM tenant_packs`)
	return err
}

// Remembered reports whether s remembers reservation id of projectID open.
func Remembered(s *Store, projectID, id string) bool {
	_, ok := s.openRsv.Get(projectID, id)
	return ok
}
