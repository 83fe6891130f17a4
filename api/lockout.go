package api

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Lockout keeps API Gateway's protection against guessing a secret key
// without letting a third party lock the owner out. The access key travels
// in clear in every request, so counting failures per access key alone (as
// the gateway documents it) lets anyone who has seen one lock its owner out
// for good with six bad requests every five minutes. Failures are counted
// instead:
//
//   - per (access key, client address): more than lockoutThreshold
//     consecutive bad signatures lock that key for that address only, for
//     lockoutDuration, even with a correct signature; a correct signature
//     from that address resets the count. Guessing one key from one
//     address gets lockoutThreshold tries per lockoutDuration, as before.
//   - per client address: more than addressThreshold failures of any key
//     (bad signatures and unknown access keys) within lockoutDuration lock
//     the address for every key, so one address cannot spray guesses over
//     many keys. Successes do not reset it, so an attacker's own valid key
//     cannot clear the count either.
//
// A correctly signed request is therefore only ever refused because of
// failures from its own address. The client address is the TCP peer (an
// IPv6 address counts by its /64, which one host usually holds whole); a
// proxy in front of allot makes every client one address, and then the
// proxy must limit failures itself. The counts live in each node's memory.
const (
	lockoutThreshold = 5
	addressThreshold = 50
	lockoutDuration  = 5 * time.Minute
	// maxTracked bounds each table, so addresses without end cannot
	// exhaust memory; beyond it the stalest entries are forgotten.
	maxTracked = 100_000
)

type failureCount struct {
	n           int
	since       time.Time // first failure of the current count
	lockedUntil time.Time
}

type pairKey struct {
	accessKey string
	addr      netip.Prefix
}

type lockout struct {
	mu    sync.Mutex
	pairs map[pairKey]*failureCount
	addrs map[netip.Prefix]*failureCount
}

func newLockout() *lockout {
	return &lockout{pairs: make(map[pairKey]*failureCount), addrs: make(map[netip.Prefix]*failureCount)}
}

// clientAddr is the address failures are counted by: the TCP peer's IPv4
// address, or the /64 of its IPv6 address.
func clientAddr(r *http.Request) netip.Prefix {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Prefix{} // not over TCP: every such caller is one address
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}

// locked reports whether a request for accessKey from addr is refused, and
// until when: the address is locked, or the key is for this address.
func (l *lockout) locked(accessKey string, addr netip.Prefix, now time.Time) (until time.Time, addressLocked, keyLocked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.addrs[addr]; f != nil && now.Before(f.lockedUntil) {
		return f.lockedUntil, true, false
	}
	if f := l.pairs[pairKey{accessKey, addr}]; f != nil && now.Before(f.lockedUntil) {
		return f.lockedUntil, false, true
	}
	return time.Time{}, false, false
}

// badSignature counts a bad signature for an access key that exists.
func (l *lockout) badSignature(accessKey string, addr netip.Prefix, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	count(l.pairs, pairKey{accessKey, addr}, lockoutThreshold, now, true)
	count(l.addrs, addr, addressThreshold, now, false)
}

// unknownKey counts a request with an access key that does not exist.
func (l *lockout) unknownKey(addr netip.Prefix, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	count(l.addrs, addr, addressThreshold, now, false)
}

// goodSignature resets the count of accessKey from addr.
func (l *lockout) goodSignature(accessKey string, addr netip.Prefix) {
	l.mu.Lock()
	delete(l.pairs, pairKey{accessKey, addr})
	l.mu.Unlock()
}

// count adds a failure to m[k], locking k once there are more than
// threshold. consecutive counts never expire on their own (only a success
// resets them, as the gateway does); otherwise the count restarts once its
// first failure is older than lockoutDuration.
func count[K comparable](m map[K]*failureCount, k K, threshold int, now time.Time, consecutive bool) {
	f := m[k]
	if f != nil && !f.lockedUntil.IsZero() && !now.Before(f.lockedUntil) {
		f = nil // the lock has run out: count afresh
	}
	if f != nil && !consecutive && now.Sub(f.since) > lockoutDuration {
		f = nil
	}
	if f == nil {
		if len(m) >= maxTracked {
			prune(m, now)
		}
		f = &failureCount{since: now}
		m[k] = f
	}
	f.n++
	if f.n > threshold {
		f.lockedUntil = now.Add(lockoutDuration)
	}
}

// prune forgets entries that lock nothing and are older than a lockout,
// then, if the table is still full, arbitrary entries down to 90%.
func prune[K comparable](m map[K]*failureCount, now time.Time) {
	for k, f := range m {
		if now.Sub(f.since) > lockoutDuration && !now.Before(f.lockedUntil) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < maxTracked*9/10 {
			break
		}
		delete(m, k)
	}
}
