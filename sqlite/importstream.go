package sqlite

import (
	"context"

	"github.com/allot-dev/allot"
)

// ImportStream writes a source all or nothing; the rules are
// allot.ImportStream's, the inserts BulkInsert's.
func (s *Store) ImportStream(ctx context.Context, src allot.ImportSource) error {
	return allot.ImportStream(ctx, s, src)
}
