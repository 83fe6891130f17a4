package api

import (
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func addr(s string) netip.Prefix { return clientAddr(&http.Request{RemoteAddr: s}) }

// TestLockoutCounts drives the tables with a fake clock: a key is locked
// only for the address that failed, an address that fails over many keys
// is locked for all, and each lock ends after lockoutDuration.
func TestLockoutCounts(t *testing.T) {
	l := newLockout()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	owner, attacker := addr("192.0.2.1:5000"), addr("198.51.100.7:6000")
	locked := func(ak string, a netip.Prefix, at time.Time) (bool, bool) {
		_, byAddr, byKey := l.locked(ak, a, at)
		return byAddr, byKey
	}
	for i := range lockoutThreshold {
		l.badSignature("AK1", attacker, t0)
		if _, byKey := locked("AK1", attacker, t0); byKey {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	l.badSignature("AK1", attacker, t0)
	if _, byKey := locked("AK1", attacker, t0); !byKey {
		t.Fatal("not locked after more than the threshold")
	}
	if a, k := locked("AK1", owner, t0); a || k {
		t.Fatal("the owner's address is locked by another's failures")
	}
	if a, k := locked("AK2", attacker, t0); a || k {
		t.Fatal("another key from the attacker's address is locked")
	}
	if _, byKey := locked("AK1", attacker, t0.Add(lockoutDuration)); byKey {
		t.Fatal("still locked after lockoutDuration")
	}
	// After the lock the count starts afresh.
	l.badSignature("AK1", attacker, t0.Add(lockoutDuration))
	if _, byKey := locked("AK1", attacker, t0.Add(lockoutDuration)); byKey {
		t.Fatal("one failure after a lock locks again")
	}
	// A success from the address resets its count for the key.
	for range lockoutThreshold {
		l.badSignature("AK3", owner, t0)
	}
	l.goodSignature("AK3", owner)
	l.badSignature("AK3", owner, t0)
	if _, byKey := locked("AK3", owner, t0); byKey {
		t.Fatal("the count survived a success")
	}

	// The address table: failures over many keys within lockoutDuration.
	sprayer := addr("[2001:db8:1:2::10]:443")
	for i := range addressThreshold {
		l.unknownKey(sprayer, t0.Add(time.Duration(i)*time.Second))
	}
	if byAddr, _ := locked("AK9", sprayer, t0.Add(time.Minute)); byAddr {
		t.Fatal("address locked at the threshold")
	}
	l.unknownKey(sprayer, t0.Add(time.Minute))
	// The same /64 is the same client; another /64 is not.
	if byAddr, _ := locked("AK9", addr("[2001:db8:1:2::99]:1"), t0.Add(time.Minute)); !byAddr {
		t.Fatal("the /64 is not locked")
	}
	if byAddr, _ := locked("AK9", addr("[2001:db8:1:3::10]:1"), t0.Add(time.Minute)); byAddr {
		t.Fatal("another /64 is locked")
	}
	// Failures spread thinner than the window never lock.
	slow := addr("203.0.113.5:1")
	for i := range 3 * addressThreshold {
		l.unknownKey(slow, t0.Add(time.Duration(i)*lockoutDuration/addressThreshold*2))
	}
	if byAddr, _ := locked("AK9", slow, t0.Add(3*lockoutDuration*2)); byAddr {
		t.Fatal("failures spread over many windows locked the address")
	}
}

// TestLockoutBounded: the tables never grow past maxTracked.
func TestLockoutBounded(t *testing.T) {
	l := newLockout()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range maxTracked + 1000 {
		a := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 32)
		l.badSignature("AK1", a, t0)
	}
	if len(l.pairs) > maxTracked || len(l.addrs) > maxTracked {
		t.Fatalf("%d pairs, %d addresses; at most %d each", len(l.pairs), len(l.addrs), maxTracked)
	}
}
