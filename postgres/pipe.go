package postgres

import (
	"context"
	"errors"
	"slices"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// groupTx is what one group's transaction keeps from one operation to the
// next (see Update):
//
//   - the projects the operations applied so far hold, with their versions
//     and counters: the first operation that holds a project bumps its
//     version in its row (the row lock); the later ones bump it in memory,
//     and writeBack writes each project's row once, before the commit;
//   - the statements whose answers nothing waits for (SAVEPOINT, RELEASE,
//     the write-back), queued and sent in the same round trip as the next
//     statement that has an answer. A consume of a held project thus costs
//     the round trips of its own reads and writes and nothing more;
//   - when fast is set, what the group has learnt of the held projects'
//     rows, and the writes whose answers that makes known, queued too.
//
// Fast path. A held project's rows change only through this transaction:
// every writer takes the project's row lock first. So a resource of a held
// project read (or written) once in the group is kept in memory and read
// from there by the later operations, and an idempotency key read as absent
// stays absent until this transaction saves it. Then the answer of an
// UPDATE of a known resource (one row), of an INSERT of a key known to be
// absent (one row) and of a ledger append (no answer) is known before it is
// sent: those writes are queued like the savepoints and go with the next
// round trip (an operation's next read, the next operation's, or the
// commit's). With guess set, an unknown key of a held project is guessed
// absent and its read queued too (guessAbsent), checked when its answer
// comes back. A consume of a held project whose package the group knows
// thus costs no round trip of its own. The first attempt guesses; a wrong
// guess runs the group again reading keys (mode fast); a failed write runs
// it again the slow way (runGroup).
//
// A queued write can still fail (a CHECK constraint the domain should have
// kept). Its failure is seen by a later statement, perhaps of another
// operation, when no savepoint can tell whose it was: the group's
// transaction fails (errBroken), is rolled back, and the leader runs the
// same operations again in a new transaction with fast unset, each write
// sent on its own as before, so each operation gets the answer it would get
// alone (runGroup). Nothing of the failed attempt was committed, and no
// answer left: the group answers only after its commit.
type groupTx struct {
	tx      pgx.Tx
	held    map[string]*holding
	pending []queued

	// broken: a queued statement failed (pendingFailed).
	broken bool

	fast bool
	// guess: on the fast path, an idempotency key of a held project that
	// the group knows nothing of is guessed absent (guessAbsent).
	guess bool
	// saveAt is where the current operation's SAVEPOINT is in pending, or
	// -1 once it was sent.
	saveAt int
	// resources are the resources of held projects as they are in the
	// transaction, by project and resource id.
	resources map[[2]string]allot.Resource
	// absent are the idempotency keys of held projects read as absent and
	// not saved since, by project and key.
	absent map[[2]string]bool
	// records are the idempotency records the group saved.
	records map[[2]string]allot.IdempotencyRecord
	// notices are the notice configurations of held projects.
	notices map[string][]allot.NoticeConfig
	// reservations are the reservations of held projects the transaction
	// read or wrote, by id, as it has them (asStoredReservation).
	reservations map[string]allot.Reservation
	// open is the store's memory of open reservations; openValid are the
	// held projects whose part of it is current.
	open      *allot.OpenReservations
	openValid map[string]bool
	// journal undoes what the current operation changed in resources and
	// absent, last first, if it fails.
	journal []func()
}

// mode is how a group's transaction runs (see groupTx).
type mode int

const (
	slow  mode = iota // every statement sent on its own
	fast              // known answers queued; idempotency keys read
	guess             // fast, and unknown idempotency keys guessed absent
)

func newGroupTx(tx pgx.Tx, m mode) *groupTx {
	return &groupTx{tx: tx, held: make(map[string]*holding), fast: m >= fast, guess: m >= guess, saveAt: -1,
		records:   make(map[[2]string]allot.IdempotencyRecord),
		resources: make(map[[2]string]allot.Resource), absent: make(map[[2]string]bool),
		notices: make(map[string][]allot.NoticeConfig), reservations: make(map[string]allot.Reservation),
		openValid: make(map[string]bool)}
}

// committed tells the store's memory of open reservations what the
// group's transaction, committed, leaves of its projects'.
func (g *groupTx) committed() {
	versions := make(map[string]int64, len(g.held))
	for id, h := range g.held {
		versions[id] = h.version
	}
	g.open.Committed(versions, g.openValid, g.reservations)
}

// knowReservation records v, a reservation of a held project, as the
// transaction has it, restored to what it was if the operation fails.
func (g *groupTx) knowReservation(v allot.Reservation) {
	id := v.ReservationID
	before, had := g.reservations[id]
	g.journal = append(g.journal, func() {
		if had {
			g.reservations[id] = before
		} else {
			delete(g.reservations, id)
		}
	})
	g.reservations[id] = asStoredReservation(v)
}

// asStoredReservation is v as a read of its rows returns it: times to the
// second in UTC, and its own holds.
func asStoredReservation(v allot.Reservation) allot.Reservation {
	v.Holds = slices.Clone(v.Holds)
	v.CreatedAt, v.ExpiresAt = fromUnix(v.CreatedAt.Unix()), fromUnix(v.ExpiresAt.Unix())
	if !v.SettledAt.IsZero() {
		v.SettledAt = fromUnix(v.SettledAt.Unix())
	}
	return v
}

// knowNotices records a held project's notice configurations, forgotten if
// the operation fails (it may be the one that took the project's lock).
func (g *groupTx) knowNotices(projectID string, cs []allot.NoticeConfig) {
	g.journal = append(g.journal, func() { delete(g.notices, projectID) })
	g.notices[projectID] = cs
}

// knowResource records r as the transaction holds it, restored to what it
// was if the operation fails.
func (g *groupTx) knowResource(r allot.Resource) {
	k := [2]string{r.ProjectID, r.ResourceID}
	before, had := g.resources[k]
	g.journal = append(g.journal, func() {
		if had {
			g.resources[k] = before
		} else {
			delete(g.resources, k)
		}
	})
	g.resources[k] = asStored(r)
}

// setAbsent records whether a key is known to be absent, restored if the
// operation fails.
func (g *groupTx) setAbsent(k [2]string, absent bool) {
	before := g.absent[k]
	g.journal = append(g.journal, func() { g.setAbsentNow(k, before) })
	g.setAbsentNow(k, absent)
}

func (g *groupTx) setAbsentNow(k [2]string, absent bool) {
	if absent {
		g.absent[k] = true
	} else {
		delete(g.absent, k)
	}
}

// knowRecord records an idempotency record the group saved, forgotten if
// the operation fails.
func (g *groupTx) knowRecord(rec allot.IdempotencyRecord) {
	k := [2]string{rec.ProjectID, rec.Key}
	g.journal = append(g.journal, func() { delete(g.records, k) })
	rec.Result = slices.Clone(rec.Result)
	g.records[k] = rec
}

// guessAbsent queues a read of an idempotency key that must find no row,
// and records the key as absent: the operation goes on as if the read had
// been made. The read is answered with the next round trip, before the
// commit in any case; if the key is there after all, the transaction breaks
// (errGuessed) and the group runs again reading its keys. The read runs
// where the operation made it, after everything queued before it, so it
// sees what the operation would have seen.
func (g *groupTx) guessAbsent(projectID, key string) {
	g.pending = append(g.pending, queued{sql: `SELECT 1 FROM idempotency WHERE project_id = $1 AND key = $2`,
		args: []any{projectID, key}, guess: true})
	g.setAbsent([2]string{projectID, key}, true)
}

// undoOp reverts what the failed current operation changed in memory.
func (g *groupTx) undoOp() {
	for i := len(g.journal) - 1; i >= 0; i-- {
		g.journal[i]()
	}
	g.journal = g.journal[:0]
}

// asStored is r as a read of its row returns it: times to the second in
// UTC, and its own BoundAsset.
func asStored(r allot.Resource) allot.Resource {
	if r.BoundAsset != nil {
		a := *r.BoundAsset
		r.BoundAsset = &a
	}
	if !r.ExpireTime.IsZero() {
		r.ExpireTime = fromUnix(r.ExpireTime.Unix())
	}
	return r
}

type queued struct {
	sql  string
	args []any
	// guess: the statement is a read that must find no row (see
	// guessAbsent).
	guess bool
	// skip: a guessed read left out, the insert of its key standing for it
	// (fold); it is sent again if the operation fails.
	skip bool
	// unique: an insert of an idempotency key whose unique violation means
	// the key was there after all (errGuessed).
	unique bool
	// entry: the statement appends this ledger entry (sql is unset).
	entry *allot.LedgerEntry
	// resource: the statement is updateResourceSQL.
	resource bool
	// reservation: the statement inserts this reservation (insert) or
	// settles it (sql is unset; see reservationWrites).
	reservation *allot.Reservation
	insert      bool
}

// fold leaves out the pending guessed read of a key that is about to be
// inserted.
func (g *groupTx) fold(projectID, key string) {
	for i := len(g.pending) - 1; i >= 0 && i >= g.saveAt; i-- {
		if q := &g.pending[i]; q.guess && q.args[0] == projectID && q.args[1] == key {
			q.skip = true
			return
		}
	}
}

func (g *groupTx) queue(sql string, args ...any) {
	g.pending = append(g.pending, queued{sql: sql, args: args})
}

// batch returns a batch of the pending statements followed by sql, and the
// pending statements that lead it; the pending queue is emptied.
//
// The ledger appends, the key inserts and the reservation writes (the
// inserts, then the settles) of the operations done (those before the
// current operation's savepoint, when it is pending) go as one statement
// each, in the place of the last of them, and of their updates of
// one resource only the last goes when it supersedes the others: nothing
// between reads the ledger, the resources, nor the keys they insert (a key
// a group saved is answered from its records; the guessed reads read keys),
// and no savepoint between is rolled back (a failed operation leaves only
// its guessed reads queued before its rollback). One row failing fails the
// statement, and so the group, which runs again the slow way, each write on
// its own.
func (g *groupTx) batch(sql string, args []any) (*pgx.Batch, []queued) {
	done := len(g.pending)
	if g.saveAt >= 0 {
		done = g.saveAt
	}
	lastEntry, lastKey, lastReservation := -1, -1, -1
	var lastSave map[[2]any]int // resource -> its last update
	for i, q := range g.pending[:done] {
		switch {
		case q.skip:
		case q.reservation != nil:
			lastReservation = i
		case q.entry != nil:
			lastEntry = i
		case q.unique:
			lastKey = i
		case q.resource:
			if lastSave == nil {
				lastSave = make(map[[2]any]int)
			}
			lastSave[[2]any{q.args[0], q.args[1]}] = i
		}
	}
	var (
		entries      []allot.LedgerEntry
		keys         [5][]any
		reservations reservationWrites
	)
	b := &pgx.Batch{}
	sent := make([]queued, 0, len(g.pending))
	for i, q := range g.pending {
		switch {
		case q.skip:
			continue
		case q.reservation != nil && i < done:
			reservations.add(q)
			if i < lastReservation {
				continue
			}
			for _, w := range reservations.statements() {
				b.Queue(w.sql, w.args...)
				sent = append(sent, w)
			}
			continue
		case q.reservation != nil:
			var one reservationWrites
			one.add(q)
			for _, w := range one.statements() {
				b.Queue(w.sql, w.args...)
				sent = append(sent, w)
			}
			continue
		case q.resource && i < done:
			if last := lastSave[[2]any{q.args[0], q.args[1]}]; last > i && supersedes(g.pending[last].args, q.args) {
				continue
			}
		case q.entry != nil && i < done:
			entries = append(entries, *q.entry)
			if i < lastEntry {
				continue
			}
			q = queued{sql: insertLedgerSQL, args: ledgerArrays(entries)}
		case q.entry != nil:
			q = queued{sql: insertLedgerSQL, args: ledgerArrays([]allot.LedgerEntry{*q.entry})}
		case q.unique && i < done:
			for c := range keys {
				keys[c] = append(keys[c], q.args[c])
			}
			if i < lastKey {
				continue
			}
			q = queued{sql: insertKeysSQL, args: keyArrays(keys), unique: true}
		}
		b.Queue(q.sql, q.args...)
		sent = append(sent, q)
	}
	g.pending = nil
	g.saveAt = -1
	if sql != "" {
		b.Queue(sql, args...)
	}
	return b, sent
}

// supersedes reports whether a later update of a resource (updateResourceSQL
// arguments) makes an earlier one of the same batch needless: they differ
// only in the version, the usage and the holds, and the earlier one passes
// the table's CHECK constraints on those (so leaving it out changes no
// answer). Nothing between them in a batch reads the resource (see batch).
func supersedes(later, earlier []any) bool {
	const version, amount, usage, held = 2, 13, 14, 18
	for c := range earlier {
		if c == version || c == usage || c == held {
			continue
		}
		if !sameArg(later[c], earlier[c]) {
			return false
		}
	}
	v, a, u, h := earlier[version].(int64), earlier[amount].(int64), earlier[usage].(int64), earlier[held].(int64)
	return v >= 1 && u >= 0 && u <= a && h >= 0 && h <= a-u
}

// sameArg compares two arguments of updateResourceSQL.
func sameArg(a, b any) bool {
	switch a := a.(type) {
	case *string:
		b := b.(*string)
		return a == nil && b == nil || a != nil && b != nil && *a == *b
	case *int64:
		b := b.(*int64)
		return a == nil && b == nil || a != nil && b != nil && *a == *b
	}
	return a == b
}

// insertKeysSQL inserts idempotency records given as one array per column.
const insertKeysSQL = `INSERT INTO idempotency (project_id, key, fingerprint, result, created_at)
	SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BYTEA[], $5::BIGINT[])`

// keyArrays turns the columns of queued key inserts (the arguments of one
// insert each) into the arguments of insertKeysSQL.
func keyArrays(cols [5][]any) []any {
	n := len(cols[0])
	projects, keys, fps := make([]string, n), make([]string, n), make([]string, n)
	results, created := make([][]byte, n), make([]int64, n)
	for i := range n {
		projects[i], keys[i], fps[i] = cols[0][i].(string), cols[1][i].(string), cols[2][i].(string)
		results[i], created[i] = cols[3][i].([]byte), cols[4][i].(int64)
	}
	return []any{projects, keys, fps, results, created}
}

// readSent reads the results of the pending statements that lead br. A
// failed one breaks the transaction (pendingFailed), and so does a guess
// that a row was absent when it was there (errGuessed).
func (g *groupTx) readSent(br pgx.BatchResults, sent []queued) error {
	for _, q := range sent {
		tag, err := br.Exec()
		var pgErr *pgconn.PgError
		if q.unique && errors.As(err, &pgErr) && pgErr.Code == "23505" {
			g.broken = true
			return errors.Join(errGuessed, errBroken, err)
		}
		if err != nil {
			return g.pendingFailed(err)
		}
		if q.guess && tag.RowsAffected() != 0 {
			g.broken = true
			return errors.Join(errGuessed, errBroken)
		}
	}
	return nil
}

// errGuessed: an idempotency key guessed absent was there. The group runs
// again reading its keys (guess unset).
var errGuessed = errors.New("postgres: an idempotency key guessed absent exists")

// send sends the pending statements and sql in one round trip, and returns
// the results with the pending ones read.
func (g *groupTx) send(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b, sent := g.batch(sql, args)
	br := g.tx.SendBatch(ctx, b)
	if err := g.readSent(br, sent); err != nil {
		br.Close()
		return nil, err
	}
	return br, nil
}

// pendingFailed marks the failure of a queued statement. It may belong to
// an operation before the one that sent it (its RELEASE) or leave this one's
// savepoint unset, so no rollback to a savepoint can be trusted: the whole
// group fails (errBroken). The group remembers it (broken), whatever the
// operation makes of the error.
func (g *groupTx) pendingFailed(err error) error {
	g.broken = true
	return errors.Join(err, errBroken)
}

// flush sends the pending statements, if any.
func (g *groupTx) flush(ctx context.Context) error {
	if len(g.pending) == 0 {
		return nil
	}
	b, sent := g.batch("", nil)
	br := g.tx.SendBatch(ctx, b)
	err := g.readSent(br, sent)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = g.pendingFailed(cerr)
	}
	return err
}

// writeBack queues the versions and counters of the held projects that
// moved, to go with the commit's last round trip.
func (g *groupTx) writeBack() {
	for id, h := range g.held {
		if h.version != h.stored || h.gainedRows > 0 || h.gainedEntries > 0 {
			g.queue(`UPDATE projects SET version = $2, next_seq = $3, next_ledger_seq = $4 WHERE id = $1`,
				id, h.version, h.nextSeq, h.nextLedgerSeq)
		}
	}
}

// pipeTx is the group's transaction as an operation's statements see it:
// every statement first sends the pending ones, in the same round trip.
type pipeTx struct {
	pgx.Tx
	g *groupTx
}

func (p pipeTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if len(p.g.pending) == 0 {
		return p.Tx.Exec(ctx, sql, args...)
	}
	br, err := p.g.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (p pipeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if len(p.g.pending) == 0 {
		return p.Tx.QueryRow(ctx, sql, args...)
	}
	br, err := p.g.send(ctx, sql, args)
	if err != nil {
		return errRow{err}
	}
	return batchRow{br}
}

func (p pipeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if len(p.g.pending) == 0 {
		return p.Tx.Query(ctx, sql, args...)
	}
	br, err := p.g.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	return batchRows{rows, br}, nil
}

func (p pipeTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if len(p.g.pending) == 0 {
		return p.Tx.SendBatch(ctx, b)
	}
	nb, sent := p.g.batch("", nil)
	nb.QueuedQueries = append(nb.QueuedQueries, b.QueuedQueries...)
	br := p.Tx.SendBatch(ctx, nb)
	if err := p.g.readSent(br, sent); err != nil {
		br.Close()
		return failedBatch{err}
	}
	return br
}

// failedBatch is a batch whose pending statements failed: every result is
// that error.
type failedBatch struct{ err error }

func (f failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f failedBatch) QueryRow() pgx.Row                { return errRow(f) }
func (f failedBatch) Close() error                     { return f.err }
func (f failedBatch) Tx() pgx.Tx                       { return nil }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r batchRows) Close() {
	r.Rows.Close()
	r.br.Close()
}
