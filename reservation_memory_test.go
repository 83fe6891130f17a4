package allot

import "testing"

// TestOpenReservations: a project's part is used only at the next version,
// dropped at any other, keeps what the last transaction left open and
// forgets what it settled.
func TestOpenReservations(t *testing.T) {
	var m OpenReservations
	open := func(id string) Reservation {
		return Reservation{ReservationID: id, ProjectID: "p", State: ReservationOpen, Holds: []Hold{{ResourceID: "r", Amount: 1}}}
	}
	if m.Valid("p", 2) {
		t.Fatal("a project never seen is current")
	}
	m.Committed(map[string]int64{"p": 2}, nil, map[string]Reservation{"a": open("a"), "b": open("b")})
	if !m.Valid("p", 3) {
		t.Fatal("the part is not current at the next version")
	}
	v, ok := m.Get("p", "a")
	if !ok || v.ReservationID != "a" {
		t.Fatalf("Get a: %+v %v", v, ok)
	}
	v.Holds[0].Amount = 9
	if again, _ := m.Get("p", "a"); again.Holds[0].Amount != 1 {
		t.Fatal("Get shares its holds with the caller")
	}
	done := open("a")
	done.State = ReservationCommitted
	m.Committed(map[string]int64{"p": 5}, map[string]bool{"p": true}, map[string]Reservation{"a": done, "c": open("c")})
	if _, ok := m.Get("p", "a"); ok {
		t.Fatal("a committed reservation is remembered")
	}
	for _, id := range []string{"b", "c"} {
		if _, ok := m.Get("p", id); !ok {
			t.Fatalf("%s is forgotten", id)
		}
	}
	if m.Valid("p", 7) {
		t.Fatal("the part is current after another writer's version")
	}
	if _, ok := m.Get("p", "b"); ok {
		t.Fatal("a part found stale is still there")
	}
	// A transaction that held p without finding its part current starts a
	// new one.
	m.Committed(map[string]int64{"p": 1}, nil, map[string]Reservation{"d": open("d")})
	m.Committed(map[string]int64{"p": 8}, nil, map[string]Reservation{"e": open("e")})
	if _, ok := m.Get("p", "d"); ok || !m.Valid("p", 9) {
		t.Fatal("a part not found current was kept")
	}
	m.Drop("p")
	if m.Valid("p", 9) {
		t.Fatal("a dropped part is current")
	}
	for i := range MaxOpenReservations + 10 {
		r := open(string(rune('a'+i%26)) + string(rune(i)))
		m.Committed(map[string]int64{"p": int64(10 + i)}, map[string]bool{"p": true}, map[string]Reservation{r.ReservationID: r})
	}
	if m.n != MaxOpenReservations {
		t.Fatalf("%d remembered, want the bound %d", m.n, MaxOpenReservations)
	}
	m.Forget()
	if m.n != 0 || m.Valid("p", 10+MaxOpenReservations+10) {
		t.Fatal("Forget kept something")
	}
}
