package allot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/allot-dev/allot"
)

var errConflict = errors.New("conflict")

func isConflict(err error) bool { return errors.Is(err, errConflict) }

// TestRetryPolicy: a retryable error runs fn again up to MaxTries times and
// returns the last error; any other error, or success, stops at once; a
// context that ends stops the pauses.
func TestRetryPolicy(t *testing.T) {
	p := allot.RetryPolicy{MaxTries: 4, FirstBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		fail      []error // what each run returns; past the end, nil
		wantTries int
		wantErr   error
	}{
		{"gives up", []error{errConflict, errConflict, errConflict, errConflict, errConflict}, 4, errConflict},
		{"recovers", []error{errConflict, errConflict}, 3, nil},
		{"other error", []error{errors.ErrUnsupported}, 1, errors.ErrUnsupported},
		{"first try", nil, 1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			tries := 0
			err := p.Do(ctx, isConflict, func() error {
				tries++
				if tries <= len(c.fail) {
					return c.fail[tries-1]
				}
				return nil
			})
			if tries != c.wantTries || !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("got %v after %d tries, want %v after %d", err, tries, c.wantErr, c.wantTries)
			}
		})
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tries := 0
	err := allot.DefaultRetry.Do(cancelled, isConflict, func() error { tries++; return errConflict })
	if tries != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, errConflict) {
		t.Fatalf("with an ended context: %v after %d tries", err, tries)
	}
}
