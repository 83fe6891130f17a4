package allot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Importer is what Import needs of a store: one write transaction of bulk
// inserts. The rules of an import (validation, ordering, versions, seqs,
// ledger entries, the customer-of-SP check) are Import's, written once; a
// store only inserts the rows it is given.
type Importer interface {
	// BulkInsert runs fn in one write transaction; nothing is written if fn
	// fails. fn may run more than once when the database asks for a retry.
	BulkInsert(ctx context.Context, fn func(ImportTx) error) error
}

// ImportTx is one bulk-insert transaction.
type ImportTx interface {
	// Now is the transaction's time: the import entries carry it.
	Now() time.Time
	// InsertProjects inserts projects at version 1 in the order given (a
	// service provider before its customers). A zero CreatedAt is set to
	// the store's current time. ECONFLICT if an id exists ("project ID
	// exists already"); EINVALID if an SP does not exist ("project ID:
	// sp_project_id: project SP does not exist").
	InsertProjects(ps []Project) error
	// Reserve raises a project's version by one and reserves rows seqs for
	// its new rows and entries seqs for its new ledger entries. It returns
	// the new version, the first of each reserved range and the project's
	// SP. ENOTFOUND if the project does not exist.
	Reserve(projectID string, rows, entries int64) (ImportStamp, error)
	// InsertResources inserts resources whose Seq and Version are set.
	// ECONFLICT if one exists ("resource PROJECT/ID exists already").
	InsertResources(rs []Resource) error
	// InsertLedger appends entries whose Seq is set.
	InsertLedger(es []LedgerEntry) error
	// InsertAssignments inserts records whose Seq and Version are set.
	// ECONFLICT if one exists ("assignment ID exists already").
	InsertAssignments(as []Assignment) error
}

// ImportStamp is what Reserve hands out for one project.
type ImportStamp struct {
	Version     int64  // the project's new version, carried by every row of the batch
	Seq         int64  // the first reserved row seq
	LedgerSeq   int64  // the first reserved ledger seq
	SPProjectID string // the project's service provider, "" if none
}

// Import writes a batch all or nothing: its projects first (an SP before its
// customers, in any batch order), then one version bump per project that
// gains rows, then the rows, each resource with an OpImport ledger entry
// (its amount and usage as deltas, so the ledger accounts for it from the
// start). Imported assignments get no entry: they have no allot-made
// package behind them, and Drift checks only those that do. EINVALID if an
// item is invalid, refers to a missing project, or an assignment's customer
// is not a customer of its SP; ECONFLICT if an id exists already or appears
// twice in the batch. Messages name the item.
func Import(ctx context.Context, s Importer, b ImportBatch) error {
	if err := checkBatch(b); err != nil {
		return err
	}
	projects, err := sortProjects(b.Projects)
	if err != nil {
		return err
	}
	rows, entries := make(map[string]int64), make(map[string]int64)
	for _, r := range b.Resources {
		rows[r.ProjectID]++
		entries[r.ProjectID]++
	}
	for _, a := range b.Assignments {
		rows[a.CustomerProjectID]++
	}
	// Projects are bumped in id order, so two imports that touch the same
	// projects cannot deadlock.
	touched := slices.Sorted(maps.Keys(rows))
	return s.BulkInsert(ctx, func(tx ImportTx) error {
		if len(projects) > 0 {
			if err := tx.InsertProjects(projects); err != nil {
				return err
			}
		}
		stamps := make(map[string]*ImportStamp, len(touched))
		for _, id := range touched {
			st, err := tx.Reserve(id, rows[id], entries[id])
			if ErrorCodeOf(err) == ENOTFOUND {
				return missingProject(b, id)
			}
			if err != nil {
				return err
			}
			stamps[id] = &st
		}
		// Copies, so the caller's batch is never written to and a retried
		// transaction stamps every row afresh.
		rs, as := slices.Clone(b.Resources), slices.Clone(b.Assignments)
		es := make([]LedgerEntry, len(rs))
		at := tx.Now().UTC().Truncate(time.Second)
		for i := range rs {
			r := &rs[i]
			st := stamps[r.ProjectID]
			r.Version, r.Seq = st.Version, st.Seq
			st.Seq++
			es[i] = LedgerEntry{ProjectID: r.ProjectID, Seq: st.LedgerSeq, ResourceID: r.ResourceID, At: at,
				Actor: "import", Op: OpImport, AmountDelta: r.Amount, UsageDelta: r.Usage}
			st.LedgerSeq++
		}
		for i := range as {
			a := &as[i]
			st := stamps[a.CustomerProjectID]
			if st.SPProjectID != a.SPProjectID {
				return Errorf(EINVALID, "assignment %s: customer_project_id: project %s is not a customer of %s",
					a.RecordID, a.CustomerProjectID, a.SPProjectID)
			}
			a.Version, a.Seq = st.Version, st.Seq
			st.Seq++
		}
		if len(rs) > 0 {
			if err := tx.InsertResources(rs); err != nil {
				return err
			}
			if err := tx.InsertLedger(es); err != nil {
				return err
			}
		}
		if len(as) > 0 {
			return tx.InsertAssignments(as)
		}
		return nil
	})
}

// missingProject names the first item of the batch that refers to the
// missing project id.
func missingProject(b ImportBatch, id string) error {
	if i := slices.IndexFunc(b.Resources, func(r Resource) bool { return r.ProjectID == id }); i >= 0 {
		return Errorf(EINVALID, "resource %s/%s: project_id: project %s does not exist", id, b.Resources[i].ResourceID, id)
	}
	i := slices.IndexFunc(b.Assignments, func(a Assignment) bool { return a.CustomerProjectID == id })
	return Errorf(EINVALID, "assignment %s: customer_project_id: project %s does not exist", b.Assignments[i].RecordID, id)
}

// checkBatch validates every item and refuses ids that a batch repeats,
// before anything is written. Messages name the item.
func checkBatch(b ImportBatch) error {
	projects := make(map[string]bool, len(b.Projects))
	for i := range b.Projects {
		p := &b.Projects[i]
		if err := p.Validate(); err != nil {
			return itemError("project "+p.ID, err)
		}
		if projects[p.ID] {
			return Errorf(ECONFLICT, "project %s appears twice in the batch", p.ID)
		}
		projects[p.ID] = true
	}
	type key struct{ project, id string }
	resources := make(map[key]bool, len(b.Resources))
	for i := range b.Resources {
		r := &b.Resources[i]
		if err := r.Validate(); err != nil {
			return itemError("resource "+r.ProjectID+"/"+r.ResourceID, err)
		}
		k := key{r.ProjectID, r.ResourceID}
		if resources[k] {
			return Errorf(ECONFLICT, "resource %s/%s appears twice in the batch", r.ProjectID, r.ResourceID)
		}
		resources[k] = true
	}
	records := make(map[string]bool, len(b.Assignments))
	for i := range b.Assignments {
		a := &b.Assignments[i]
		if err := a.Validate(); err != nil {
			return itemError("assignment "+a.RecordID, err)
		}
		if records[a.RecordID] {
			return Errorf(ECONFLICT, "assignment %s appears twice in the batch", a.RecordID)
		}
		records[a.RecordID] = true
	}
	return nil
}

// itemError prefixes an error's message with the batch item it is about.
func itemError(item string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Message: item + ": " + e.Message, Err: e.Err}
	}
	return fmt.Errorf("%s: %w", item, err)
}

// sortProjects returns a batch's projects so that a project whose service
// provider is in the same batch comes after it, whatever the batch's order.
// EINVALID if SPs form a cycle. The ids are unique (checkBatch).
func sortProjects(ps []Project) ([]Project, error) {
	index := make(map[string]int, len(ps))
	for i, p := range ps {
		index[p.ID] = i
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := make([]int, len(ps))
	out := make([]Project, 0, len(ps))
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case done:
			return nil
		case visiting:
			return Errorf(EINVALID, "project %s: sp_project_id: service providers form a cycle", ps[i].ID)
		}
		state[i] = visiting
		if j, ok := index[ps[i].SPProjectID]; ok {
			if err := visit(j); err != nil {
				return err
			}
		}
		state[i] = done
		out = append(out, ps[i])
		return nil
	}
	for i := range ps {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}
