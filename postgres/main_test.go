package postgres

import (
	"context"
	"errors"
	"testing"

	"github.com/allot-dev/allot"
	"github.com/jackc/pgx/v5/pgconn"
)

// The tests that need a database are in package postgres_test, which gets
// one from package pgtest; pgtest imports this package, so tests inside it
// cannot. export_test.go opens the internals those tests need.

// TestRetryGivesUp checks that retry stops after the policy's MaxTries and returns the
// last error, and never retries an error that is not a conflict.
func TestRetryGivesUp(t *testing.T) {
	ctx := context.Background()
	tries := 0
	serialization := &pgconn.PgError{Code: "40001"}
	err := retry(ctx, conflict, func() error { tries++; return serialization })
	if !errors.Is(err, serialization) || tries != allot.DefaultRetry.MaxTries {
		t.Fatalf("got %v after %d tries, want the 40001 error after %d", err, tries, allot.DefaultRetry.MaxTries)
	}
	tries = 0
	unique := &pgconn.PgError{Code: "23505"}
	if err := retry(ctx, conflict, func() error { tries++; return unique }); !errors.Is(err, unique) || tries != 1 {
		t.Fatalf("got %v after %d tries, want the 23505 error after 1", err, tries)
	}
}
