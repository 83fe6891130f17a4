package allot

import (
	"strings"
	"testing"
	"time"
)

// TestReservationIDs: ids made later sort after earlier ones, are valid ids,
// and do not repeat within one millisecond.
func TestReservationIDs(t *testing.T) {
	at := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	prev := ""
	for i := range 2000 {
		now := at.Add(time.Duration(i/100) * time.Millisecond) // 100 ids per millisecond
		id := newReservationID(now)
		if err := ValidateID("reservation_id", id); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if !strings.HasPrefix(id, "rsv-") || len(id) != len("rsv-")+28 {
			t.Fatalf("id %q", id)
		}
		if seen[id] {
			t.Fatalf("id %s made twice", id)
		}
		seen[id] = true
		if i%100 == 0 && id <= prev {
			t.Errorf("id %s of %v sorts before %s, made earlier", id, now, prev)
		}
		prev = id
	}
	// The time part is the milliseconds, as written.
	if got, want := newReservationID(time.UnixMilli(0x0123456789ab))[4:16], "0123456789ab"; got != want {
		t.Errorf("time part %s, want %s", got, want)
	}
}
