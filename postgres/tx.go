package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
)

// Update runs fn in one write transaction that holds projectIDs and bumps
// the version of each exactly once. ENOTFOUND if a project does not exist.
//
// Isolation: READ COMMITTED, with every row the transaction writes guarded
// by a lock it holds. The transaction begins by updating the row of each
// project it holds, in id order; that takes the row's lock until commit, and
// every writer of a project's resources, assignments, ledger entries and
// idempotency records (Update, Import) takes the same lock first. So the
// writers of one project run one after the other, on any number of nodes,
// and each, having waited for the lock, reads the rows its predecessor
// committed: a READ COMMITTED statement sees every commit made before it
// starts. Two nodes consuming from one package cannot both see the same
// remaining units, and two requests with one idempotency key cannot both
// miss the other's record. Locking in id order means two updates of the
// same projects wait for each other instead of deadlocking. Nothing depends
// on predicate locks or snapshot checks, so the stricter levels of
// CockroachDB (SERIALIZABLE unless read committed is enabled) and
// YugabyteDB (snapshot isolation unless it is enabled) are also correct:
// they turn a lost race into 40001, and the transaction runs again.
//
// Locking by UPDATE ... RETURNING rather than SELECT ... FOR UPDATE followed
// by UPDATE saves a statement: an UPDATE locks its row as surely, and the
// statements of one batch run in order, one round trip for all projects.
//
// Group commit: concurrent Updates of this Store share transactions. Each
// waits in the store's queue (allot.Group); the writer that leads takes what
// is waiting and applies it in order in one transaction, each operation
// inside its own SAVEPOINT, taking its projects' locks (the version bump)
// inside it. An operation that fails is rolled back to its savepoint alone:
// that releases the row locks it took (PostgreSQL releases a subtransaction's
// locks when it is rolled back), so a refused operation holds its projects no
// longer than it runs. A project the group holds already is bumped in
// memory, its row written once before the commit, and the statements nothing
// waits for (SAVEPOINT, RELEASE) go with the next round trip (groupTx). The
// transaction commits once, and only then does any Update of the group
// return. An Update of a project that a group in flight holds waits for the
// next group rather than leading one of its own (Group.Keys): a second
// group would only wait for the first one's row lock, so one hot project's
// Updates share one transaction's serial time (the lock, the flush, the
// commit) in groups of up to maxGroup, while groups of other projects still
// run in parallel.
//
// No deadlock: every transaction still takes its row locks in increasing id
// order. An operation joins the group's transaction only if each project it
// names and the transaction does not hold yet sorts after every project the
// transaction holds; one that would take a lock out of order is put off to
// the next group (with every later operation that names one of its
// projects, so a project's operations keep their order), and the next
// group starts with it. So a transaction never waits for a lock while it
// holds a greater one, on this node or any other.
//
// fn runs again, from the start, when the database aborts the transaction
// for a conflict (40001, 40P01): the whole group runs again, since nothing
// of it was committed.
func (s *Store) Update(ctx context.Context, projectIDs []string, fn func(allot.Tx) error) error {
	ids := slices.Compact(slices.Sorted(slices.Values(projectIDs)))
	if len(ids) == 0 {
		return errors.New("postgres: Update holds no project")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.group.Do(update{ctx: ctx, ids: ids, fn: fn})
}

// update is one Update waiting for its group.
type update struct {
	ctx context.Context
	ids []string // sorted
	fn  func(allot.Tx) error
}

// maxGroup bounds the operations of one transaction. Each operation is a
// subtransaction (its savepoint), and a PostgreSQL transaction with more
// than 64 subtransactions overflows its backend's subtransaction cache:
// from then on every snapshot of every backend must look the transaction's
// rows up in pg_subtrans, which slows the whole database down. So a group
// stays below that.
const maxGroup = 48

// runGroup applies a group of Updates in one transaction (see Update). It
// tries the fast path first (groupTx); if the transaction breaks there, a
// queued write may have failed, and the same operations run again in a new
// transaction, each write sent on its own: the slow path, where each
// operation's failure is its own.
func (s *Store) runGroup(ops []*allot.GroupOp[update]) (deferred []*allot.GroupOp[update]) {
	m := guess
	deferred, err := s.tryGroup(ops, m)
	for m > slow && (errors.Is(err, errBroken) || errors.Is(err, pgx.ErrTxCommitRollback)) {
		if m == guess && errors.Is(err, errGuessed) {
			m = fast
		} else {
			m = slow
		}
		deferred, err = s.tryGroup(ops, m)
	}
	if err != nil {
		for _, op := range ops {
			if !slices.Contains(deferred, op) && (op.Err == nil || conflict(op.Err) || errors.Is(op.Err, errBroken)) {
				op.Err = err
			}
		}
	}
	return deferred
}

// tryGroup applies ops in one transaction, on the fast path or not, and
// returns the operations it put off and the transaction's error.
func (s *Store) tryGroup(ops []*allot.GroupOp[update], m mode) (deferred []*allot.GroupOp[update], err error) {
	// The transaction serves many callers: no single caller's context may
	// cancel it. A caller whose context is done before its turn is refused
	// before anything of it runs.
	ctx := context.Background()
	var g *groupTx
	defer func() {
		if err == nil && g.fast {
			g.committed()
		}
	}()
	err = s.withTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		s.groupRuns[m].Add(1)
		deferred = deferred[:0]
		for _, op := range ops {
			op.Err = nil
		}
		g = newGroupTx(tx, m)
		g.open = &s.open
		held := map[string]bool{} // the projects of the operations applied so far
		last := ""                // the greatest of them
		blocked := map[string]bool{}
		for i, op := range ops {
			if i > 0 && !joins(op.V.ids, held, last, blocked) {
				for _, id := range op.V.ids {
					blocked[id] = true
				}
				deferred = append(deferred, op)
				continue
			}
			op.Err = s.apply(g, op.V)
			if g.broken {
				return errors.Join(op.Err, errBroken)
			}
			switch {
			case op.Err == nil:
				for _, id := range op.V.ids {
					held[id] = true
				}
				last = max(last, op.V.ids[len(op.V.ids)-1])
			case conflict(op.Err) || errors.Is(op.Err, errBroken):
				// The transaction is lost: all of it runs again.
				return op.Err
			}
		}
		g.writeBack()
		return g.flush(ctx)
	})
	return deferred, err
}

// joins reports whether an operation on ids may run in a transaction that
// holds held (whose greatest id is last) without taking a lock out of order,
// and names no project of an operation put off before it.
func joins(ids []string, held map[string]bool, last string, blocked map[string]bool) bool {
	for _, id := range ids {
		if blocked[id] || !held[id] && id <= last {
			return false
		}
	}
	return true
}

// errBroken marks a failed rollback to a savepoint, or a failed queued
// statement (see pendingFailed): the transaction is in an unknown state, and
// the whole group fails.
var errBroken = errors.New("postgres: the group's transaction is broken")

// apply runs one Update inside a savepoint of the group's transaction.
func (s *Store) apply(g *groupTx, u update) error {
	if err := u.ctx.Err(); err != nil {
		return err
	}
	ctx := context.WithoutCancel(u.ctx)
	t := &pgTx{ctx: ctx, g: g, tx: pipeTx{Tx: g.tx, g: g}, now: s.Now().UTC().Truncate(time.Second), held: make(map[string]*holding, len(u.ids))}
	// undo restores the group's holdings if the operation fails: the
	// savepoint undoes its rows, this its versions and counters.
	undo := make(map[string]*holding, len(u.ids))
	g.journal = g.journal[:0]
	err := t.lock(g, u.ids, undo)
	if err == nil {
		err = callFn(u.fn, t)
	}
	if err == nil {
		if g.saveAt >= 0 {
			// Nothing of the operation was sent: its statements need no
			// savepoint. Should one fail, the group breaks and runs again.
			g.pending = slices.Delete(g.pending, g.saveAt, g.saveAt+1)
			g.saveAt = -1
		} else {
			g.queue(`RELEASE SAVEPOINT op`)
		}
		return nil
	}
	if g.broken {
		return err
	}
	g.undoOp()
	for id, before := range undo {
		if before == nil {
			delete(g.held, id)
		} else {
			*g.held[id] = *before
		}
	}
	// The operation's queued statements are dropped, but for its guessed
	// reads: its answer rests on them. (None of its queued writes comes
	// before a guess of the same key: a key it saved is answered from
	// records.) If the savepoint was sent, everything pending is the
	// operation's own, and what was sent is rolled back.
	sent, start := g.saveAt < 0, max(g.saveAt, 0)
	kept := g.pending[:start]
	for _, q := range g.pending[start:] {
		if q.guess {
			q.skip = false
			kept = append(kept, q)
		}
	}
	g.pending, g.saveAt = kept, -1
	if !sent {
		return err
	}
	if g.fast {
		g.queue(`ROLLBACK TO SAVEPOINT op`)
		g.queue(`RELEASE SAVEPOINT op`)
		return err
	}
	if _, rerr := g.tx.Exec(ctx, `ROLLBACK TO SAVEPOINT op; RELEASE SAVEPOINT op`); rerr != nil {
		return errors.Join(err, errBroken, rerr)
	}
	return err
}

// callFn runs fn and turns a panic into an error: the other operations of
// the group are waiting for their answers, and the leader must give them.
func callFn(fn func(allot.Tx) error, t allot.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("postgres: panic in Update: %v", p)
		}
	}()
	return fn(t)
}

// pgTx is an allot.Tx on one PostgreSQL transaction.
type pgTx struct {
	ctx  context.Context
	g    *groupTx
	tx   pgx.Tx
	now  time.Time
	held map[string]*holding
}

// holding is a project held by the transaction: its new version, and the
// next seqs. They are kept here and written back once, before the commit
// (groupTx.writeBack): the row lock guarantees that nobody else moves them
// meanwhile.
type holding struct {
	version                   int64
	nextSeq, nextLedgerSeq    int64
	gainedRows, gainedEntries int64
	stored                    int64 // the version in the row
}

var _ allot.Tx = (*pgTx)(nil)

// lock opens the operation's savepoint and bumps the version of each
// project: in memory for a project the group holds already, else in its row
// (taking its lock), in id order. Both go in one round trip with what is
// pending, or, when every project is held, with the operation's first
// statement. undo receives each project's holding as it was (nil: not held
// before).
func (t *pgTx) lock(g *groupTx, ids []string, undo map[string]*holding) error {
	g.saveAt = len(g.pending)
	g.queue(`SAVEPOINT op`)
	var fresh []string
	for _, id := range ids {
		if h, ok := g.held[id]; ok {
			before := *h
			undo[id] = &before
			h.version++
			t.held[id] = h
		} else {
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	b, sent := g.batch("", nil)
	for _, id := range fresh {
		b.Queue(`UPDATE projects SET version = version + 1 WHERE id = $1 RETURNING version, next_seq, next_ledger_seq`, id)
	}
	br := g.tx.SendBatch(t.ctx, b)
	defer br.Close()
	if err := g.readSent(br, sent); err != nil {
		return err
	}
	for _, id := range fresh {
		h := &holding{}
		err := br.QueryRow().Scan(&h.version, &h.nextSeq, &h.nextLedgerSeq)
		if errors.Is(err, pgx.ErrNoRows) {
			return projectNotFound(id)
		}
		if err != nil {
			return err
		}
		h.stored = h.version
		undo[id] = nil
		g.held[id] = h
		t.held[id] = h
		if g.fast {
			g.openValid[id] = g.open.Valid(id, h.stored)
		}
	}
	return br.Close()
}

// holding returns the project if the transaction holds it. Writing to a
// project it does not hold is a programming error: the write would not be
// serialised with the project's other writers.
func (t *pgTx) holding(what, projectID string) (*holding, error) {
	h, ok := t.held[projectID]
	if !ok {
		return nil, fmt.Errorf("postgres: %s of project %s, which the transaction does not hold", what, projectID)
	}
	return h, nil
}

func (t *pgTx) Now() time.Time { return t.now }

func (t *pgTx) Project(id string) (allot.Project, error) {
	p, _, _, err := scanProject(t.tx.QueryRow(t.ctx, projectQuery, id), id)
	return p, err
}

func (t *pgTx) Resource(projectID, resourceID string) (allot.Resource, error) {
	if r, ok := t.g.resources[[2]string{projectID, resourceID}]; ok {
		return asStored(r), nil
	}
	rs, err := t.resources(`SELECT `+resourceColumns+` FROM resources WHERE project_id = $1 AND resource_id = $2`,
		projectID, resourceID)
	if err != nil {
		return allot.Resource{}, err
	}
	if len(rs) == 0 {
		return allot.Resource{}, allot.Errorf(allot.ENOTFOUND, "resource %s of project %s does not exist", resourceID, projectID)
	}
	t.know(rs)
	return rs[0], nil
}

func (t *pgTx) ResourcesOfType(projectID, resourceType string) ([]allot.Resource, error) {
	rs, err := t.resources(`SELECT `+resourceColumns+` FROM resources
		WHERE project_id = $1 AND resource_type = $2 AND NOT removed ORDER BY seq`, projectID, resourceType)
	if err == nil {
		t.know(rs)
	}
	return rs, err
}

// know keeps resources just read or written, on the fast path, if the
// group holds their project (see groupTx).
func (t *pgTx) know(rs []allot.Resource) {
	if !t.g.fast {
		return
	}
	for _, r := range rs {
		if t.g.held[r.ProjectID] != nil {
			t.g.knowResource(r)
		}
	}
}

// resources runs a read of resourceColumns whose first argument is the project.
func (t *pgTx) resources(query, projectID string, args ...any) ([]allot.Resource, error) {
	rows, err := t.tx.Query(t.ctx, query, append([]any{projectID}, args...)...)
	if err != nil {
		return nil, err
	}
	return scanResources(rows, projectID, 0)
}

func (t *pgTx) SaveResource(r *allot.Resource) error {
	h, err := t.holding("saving resource "+r.ResourceID, r.ProjectID)
	if err != nil {
		return err
	}
	if r.Seq == 0 {
		saved := *r
		saved.Seq, saved.Version = h.nextSeq, h.version
		// DO NOTHING rather than a unique violation, which would abort the
		// transaction: fn may go on after ECONFLICT, as on SQLite.
		tag, err := t.tx.Exec(t.ctx, insertResourcesSQL+` ON CONFLICT (project_id, resource_id) DO NOTHING`,
			resourceArrays([]allot.Resource{saved})...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return allot.Errorf(allot.ECONFLICT, "resource %s of project %s exists already", r.ResourceID, r.ProjectID)
		}
		h.nextSeq++
		h.gainedRows++
		*r = saved
		t.know([]allot.Resource{saved})
		return nil
	}
	var assetID *string
	assetName := ""
	if r.BoundAsset != nil {
		assetID, assetName = &r.BoundAsset.AssetID, r.BoundAsset.AssetName
	}
	args := []any{r.ProjectID, r.ResourceID, h.version, r.OrderID, assetID, assetName,
		unixOrNull(r.ExpireTime), r.ResourceType, string(r.BusinessType), string(r.SubResourceType), r.IsSubResource,
		string(r.ChargingMode), string(r.Source), int64(r.Amount), int64(r.Usage), int32(r.Status), string(r.Unit), r.Removed,
		int64(r.Held), int32(r.Priority)}
	if before, ok := t.g.resources[[2]string{r.ProjectID, r.ResourceID}]; ok && before.Seq == r.Seq {
		// The row exists and is the transaction's: the answer (one row) is
		// known, and the write goes with the next round trip.
		t.g.pending = append(t.g.pending, queued{sql: updateResourceSQL, args: args, resource: true})
	} else {
		tag, err := t.tx.Exec(t.ctx, updateResourceSQL, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return allot.Errorf(allot.ENOTFOUND, "resource %s of project %s does not exist", r.ResourceID, r.ProjectID)
		}
	}
	r.Version = h.version
	t.know([]allot.Resource{*r})
	return nil
}

const updateResourceSQL = `UPDATE resources SET version = $3, order_id = $4, asset_id = $5, asset_name = $6,
		expire_time = $7, resource_type = $8, business_type = $9, sub_resource_type = $10, is_sub_resource = $11,
		charging_mode = $12, resource_source = $13, amount = $14, usage = $15, status = $16, unit = $17, removed = $18,
		held = $19, priority = $20
	WHERE project_id = $1 AND resource_id = $2`

func (t *pgTx) Assignment(customerProjectID, recordID string) (allot.Assignment, error) {
	var (
		a                           allot.Assignment
		mode                        string
		num, used, allocate, expire int64
	)
	err := t.tx.QueryRow(t.ctx, `SELECT customer_project_id, `+assignmentColumns+` FROM assignments
		WHERE customer_project_id = $1 AND record_id = $2`, customerProjectID, recordID).
		Scan(&a.CustomerProjectID, &a.RecordID, &a.SPProjectID, &a.Seq, &a.Version, &a.ResourceSpecCode,
			&mode, &num, &used, &allocate, &expire, &a.SPResourceID)
	if errors.Is(err, pgx.ErrNoRows) {
		return allot.Assignment{}, allot.Errorf(allot.ENOTFOUND, "assignment %s of project %s does not exist", recordID, customerProjectID)
	}
	if err != nil {
		return allot.Assignment{}, err
	}
	a.ChargingMode = allot.ChargingMode(mode)
	a.ResourceNum, a.ResourceUsedNum = allot.Quantity(num), allot.Quantity(used)
	a.AllocateTime, a.ExpireTime = fromUnix(allocate), fromUnix(expire)
	return a, nil
}

func (t *pgTx) AllocatedFrom(spProjectID, spResourceID string) (allot.Quantity, error) {
	var n int64
	err := t.tx.QueryRow(t.ctx, `SELECT COALESCE(SUM(resource_num), 0)::bigint FROM assignments WHERE sp_project_id = $1 AND sp_resource_id = $2`,
		spProjectID, spResourceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: units allocated from %s: %w", spResourceID, err)
	}
	return allot.Quantity(n), nil
}

func (t *pgTx) SaveAssignment(a *allot.Assignment) error {
	h, err := t.holding("saving assignment "+a.RecordID, a.CustomerProjectID)
	if err != nil {
		return err
	}
	if a.Seq == 0 {
		saved := *a
		saved.Seq, saved.Version = h.nextSeq, h.version
		tag, err := t.tx.Exec(t.ctx, insertAssignmentsSQL+` ON CONFLICT (record_id) DO NOTHING`,
			assignmentArrays([]allot.Assignment{saved})...)
		if err != nil {
			return mapError(err, map[string]*allot.Error{
				"assignments_sp_fk": allot.Errorf(allot.ENOTFOUND, "service provider %s of assignment %s does not exist", a.SPProjectID, a.RecordID),
			})
		}
		if tag.RowsAffected() == 0 {
			return allot.Errorf(allot.ECONFLICT, "assignment %s exists already", a.RecordID)
		}
		h.nextSeq++
		h.gainedRows++
		*a = saved
		return nil
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE assignments SET version = $3, sp_project_id = $4, resource_spec_code = $5,
			charging_mode = $6, resource_num = $7, resource_used_num = $8, allocate_time = $9, expire_time = $10,
			sp_resource_id = $11
		WHERE customer_project_id = $1 AND record_id = $2`,
		a.CustomerProjectID, a.RecordID, h.version, a.SPProjectID, a.ResourceSpecCode,
		string(a.ChargingMode), int64(a.ResourceNum), int64(a.ResourceUsedNum), a.AllocateTime.Unix(), a.ExpireTime.Unix(),
		nullIfEmpty(a.SPResourceID))
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return allot.Errorf(allot.ENOTFOUND, "assignment %s of project %s does not exist", a.RecordID, a.CustomerProjectID)
	}
	a.Version = h.version
	return nil
}

func (t *pgTx) AppendLedger(e *allot.LedgerEntry) error {
	h, err := t.holding("a ledger entry", e.ProjectID)
	if err != nil {
		return err
	}
	saved := *e
	saved.Seq = h.nextLedgerSeq
	if saved.At.IsZero() {
		saved.At = t.now
	}
	if t.g.fast {
		// An append has no answer: it goes with the next round trip.
		e := saved
		t.g.pending = append(t.g.pending, queued{entry: &e})
	} else if err := insertLedger(t.ctx, t.tx, []allot.LedgerEntry{saved}); err != nil {
		return err
	}
	h.nextLedgerSeq++
	h.gainedEntries++
	*e = saved
	return nil
}

func (t *pgTx) Idempotency(projectID, key string) (allot.IdempotencyRecord, bool, error) {
	k := [2]string{projectID, key}
	if rec, ok := t.g.records[k]; ok {
		rec.Result = slices.Clone(rec.Result)
		return rec, true, nil
	}
	if t.g.absent[k] {
		return allot.IdempotencyRecord{}, false, nil
	}
	if t.g.guess && t.g.held[projectID] != nil {
		t.g.guessAbsent(projectID, key)
		return allot.IdempotencyRecord{}, false, nil
	}
	rec := allot.IdempotencyRecord{ProjectID: projectID, Key: key}
	var created int64
	err := t.tx.QueryRow(t.ctx, `SELECT fingerprint, result, created_at FROM idempotency WHERE project_id = $1 AND key = $2`,
		projectID, key).Scan(&rec.Fingerprint, &rec.Result, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		if t.g.fast && t.g.held[projectID] != nil {
			t.g.setAbsent([2]string{projectID, key}, true)
		}
		return allot.IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return allot.IdempotencyRecord{}, false, err
	}
	rec.CreatedAt = fromUnix(created)
	return rec, true, nil
}

// SaveIdempotency records an answer. The project must be held: its lock is
// what keeps two requests with the same key from both running.
func (t *pgTx) SaveIdempotency(rec allot.IdempotencyRecord) error {
	if _, err := t.holding("saving idempotency key "+rec.Key, rec.ProjectID); err != nil {
		return err
	}
	created := rec.CreatedAt
	if created.IsZero() {
		created = t.now
	}
	const insert = `INSERT INTO idempotency (project_id, key, fingerprint, result, created_at) VALUES ($1, $2, $3, $4, $5)`
	k := [2]string{rec.ProjectID, rec.Key}
	_, saved := t.g.records[k]
	// A key of a held project that the group knows nothing of, saved
	// without a lookup (allot's onceFresh), is guessed absent like a key
	// read (guessAbsent): if it is there after all, the insert's unique
	// violation breaks the transaction and the group runs again reading
	// keys, where this insert is sent on its own and refused.
	guessed := !saved && !t.g.absent[k] && t.g.guess && t.g.held[rec.ProjectID] != nil
	if t.g.absent[k] || guessed {
		// The key is absent and the project held: the insert adds one row.
		// A guessed read of the key still pending is left out: the insert
		// finds the key as surely (unique), and the group runs again
		// reading keys. Should it fail otherwise, it runs again the slow
		// way.
		t.g.fold(rec.ProjectID, rec.Key)
		t.g.pending = append(t.g.pending, queued{sql: insert, unique: true,
			args: []any{rec.ProjectID, rec.Key, rec.Fingerprint, rec.Result, created.Unix()}})
		t.g.setAbsent(k, false)
		rec.CreatedAt = fromUnix(created.Unix())
		t.g.knowRecord(rec)
		return nil
	}
	tag, err := t.tx.Exec(t.ctx, insert+` ON CONFLICT (project_id, key) DO NOTHING`,
		rec.ProjectID, rec.Key, rec.Fingerprint, rec.Result, created.Unix())
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return allot.Errorf(allot.ECONFLICT, "idempotency key %s of project %s was used already", rec.Key, rec.ProjectID)
	}
	return nil
}
