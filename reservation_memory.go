package allot

import (
	"slices"
	"sync"
)

// OpenReservations is a store's memory of the open reservations its write
// transactions wrote or read, by project, so that a commit or a release of
// one need not read it again. A project's part is current only while
// nobody else wrote the project: it carries the project's version as the
// transaction that left it committed it, and every writer of a project
// bumps its version first (Update, Import), on any node. A transaction
// whose lock takes the project to the next version may use the part
// (Valid); at any other version the part is dropped. A store that uses it
// still checks, when it settles a remembered reservation, that the row was
// open. The zero value is ready to use; it is safe for concurrent use.
type OpenReservations struct {
	mu       sync.Mutex
	projects map[string]*openPart
	n        int
}

type openPart struct {
	version int64
	byID    map[string]Reservation
}

// MaxOpenReservations bounds what an OpenReservations keeps.
const MaxOpenReservations = 1 << 14

// Valid reports whether projectID's part is current for a transaction whose
// lock took the project's version to version, and drops it if not.
func (m *OpenReservations) Valid(projectID string, version int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.projects[projectID]
	if ok && p.version+1 == version {
		return true
	}
	if ok {
		m.n -= len(p.byID)
		delete(m.projects, projectID)
	}
	return false
}

// Get returns reservation id of projectID, with its own holds, if it is
// remembered open. Only a transaction for which Valid said so may use it.
func (m *OpenReservations) Get(projectID, id string) (Reservation, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.projects[projectID]
	if p == nil {
		return Reservation{}, false
	}
	v, ok := p.byID[id]
	v.Holds = slices.Clone(v.Holds)
	return v, ok
}

// Committed records what a transaction that committed leaves: versions are
// the versions it wrote of the projects it held; valid the projects whose
// part it found current; known the reservations of those projects as it
// left them (every one it wrote, and any it read). A project it held
// without finding its part current starts a new part of known's.
func (m *OpenReservations) Committed(versions map[string]int64, valid map[string]bool, known map[string]Reservation) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.projects == nil {
		m.projects = make(map[string]*openPart)
	}
	for id, version := range versions {
		p := m.projects[id]
		if p != nil && !valid[id] {
			m.n -= len(p.byID)
			p = nil
		}
		if p == nil {
			p = &openPart{byID: make(map[string]Reservation)}
			m.projects[id] = p
		}
		p.version = version
	}
	for rid, v := range known {
		p := m.projects[v.ProjectID]
		if _, held := versions[v.ProjectID]; p == nil || !held {
			continue
		}
		_, had := p.byID[rid]
		switch {
		case v.State != ReservationOpen && had:
			delete(p.byID, rid)
			m.n--
		case v.State == ReservationOpen && !had && m.n < MaxOpenReservations:
			v.Holds = slices.Clone(v.Holds)
			p.byID[rid] = v
			m.n++
		}
	}
}

// Drop forgets projectID's part.
func (m *OpenReservations) Drop(projectID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.projects[projectID]; ok {
		m.n -= len(p.byID)
		delete(m.projects, projectID)
	}
}

// Forget forgets everything (after a wipe).
func (m *OpenReservations) Forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.projects, m.n = nil, 0
}
