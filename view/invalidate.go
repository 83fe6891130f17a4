package view

// Invalidate drops every tenant's snapshot, so the next request of each
// reloads it from the store. Test mode's reset calls it after wiping the
// store: a tenant re-seeded afterwards starts again at low versions, which
// an old snapshot could match by number while holding other rows.
func (r *Reader) Invalidate() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.tenants {
		// As in evict: the refresh lock keeps a refresh in flight from
		// publishing rows that are then not counted.
		t.refresh.Lock()
		if s := t.snap.Swap(nil); s != nil {
			r.held.Add(-s.retire())
		}
		t.refresh.Unlock()
	}
}
