package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/allot-dev/allot"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

const reservationColumns = `reservation_id, project_id, state, amount, committed, created_at, expires_at, settled_at,
	actor, idempotency_key, user_id, app_user_id`

// queryReservations reads reservations and then their holds, in tx.
func queryReservations(ctx context.Context, tx pgx.Tx, where string, args ...any) ([]allot.Reservation, error) {
	rows, err := tx.Query(ctx, `SELECT `+reservationColumns+` FROM reservations `+where, args...)
	if err != nil {
		return nil, err
	}
	var (
		vs    []allot.Reservation
		ids   []string
		index = map[string]int{}
	)
	for rows.Next() {
		var (
			v                                  allot.Reservation
			state                              string
			amount, committed, created, expire int64
			settled                            pgtype.Int8
		)
		if err := rows.Scan(&v.ReservationID, &v.ProjectID, &state, &amount, &committed, &created, &expire, &settled,
			&v.Actor, &v.IdempotencyKey, &v.UserID, &v.AppUserID); err != nil {
			rows.Close()
			return nil, err
		}
		v.State, v.Amount, v.Committed = allot.ReservationState(state), allot.Quantity(amount), allot.Quantity(committed)
		v.CreatedAt, v.ExpiresAt = fromUnix(created), fromUnix(expire)
		if settled.Valid {
			v.SettledAt = fromUnix(settled.Int64)
		}
		index[v.ReservationID] = len(vs)
		vs = append(vs, v)
		ids = append(ids, v.ReservationID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, nil
	}
	rows, err = tx.Query(ctx, `SELECT reservation_id, resource_id, amount, committed FROM reservation_holds
		WHERE reservation_id = ANY($1) ORDER BY reservation_id, idx`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                string
			h                 allot.Hold
			amount, committed int64
		)
		if err := rows.Scan(&id, &h.ResourceID, &amount, &committed); err != nil {
			return nil, err
		}
		h.Amount, h.Committed = allot.Quantity(amount), allot.Quantity(committed)
		v := &vs[index[id]]
		v.Holds = append(v.Holds, h)
	}
	for i := range vs {
		vs[i].FillLoneHold()
	}
	return vs, rows.Err()
}

func reservationNotFound(id string) error {
	return allot.Errorf(allot.ENOTFOUND, "reservation %s does not exist", id)
}

// reservationByID reads one reservation and its holds in one statement:
// one round trip, where a reservation step reads its reservation twice
// (FindReservation for its project, then Reservation under the lock).
const reservationByID = `SELECT r.reservation_id, r.project_id, r.state, r.amount, r.committed, r.created_at, r.expires_at,
		r.settled_at, r.actor, r.idempotency_key, r.user_id, r.app_user_id, h.resource_id, h.amount, h.committed
	FROM reservations r LEFT JOIN reservation_holds h ON h.reservation_id = r.reservation_id
	WHERE r.reservation_id = $1 ORDER BY h.idx`

// scanReservation reads the rows of reservationByID; ok is false if there
// are none.
func scanReservation(rows pgx.Rows, err error) (v allot.Reservation, ok bool, _ error) {
	if err != nil {
		return v, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			state                              string
			amount, committed, created, expire int64
			settled, held, settledPart         pgtype.Int8
			resource                           pgtype.Text
		)
		if err := rows.Scan(&v.ReservationID, &v.ProjectID, &state, &amount, &committed, &created, &expire, &settled,
			&v.Actor, &v.IdempotencyKey, &v.UserID, &v.AppUserID, &resource, &held, &settledPart); err != nil {
			return v, false, err
		}
		if !ok {
			v.State, v.Amount, v.Committed = allot.ReservationState(state), allot.Quantity(amount), allot.Quantity(committed)
			v.CreatedAt, v.ExpiresAt = fromUnix(created), fromUnix(expire)
			if settled.Valid {
				v.SettledAt = fromUnix(settled.Int64)
			}
			ok = true
		}
		if resource.Valid {
			v.Holds = append(v.Holds, allot.Hold{ResourceID: resource.String, Amount: allot.Quantity(held.Int64), Committed: allot.Quantity(settledPart.Int64)})
		}
	}
	v.FillLoneHold()
	return v, ok, rows.Err()
}

func (t *pgTx) Reservation(projectID, id string) (allot.Reservation, error) {
	if v, ok := t.knownReservation(projectID, id); ok {
		return v, nil
	}
	v, ok, err := scanReservation(t.tx.Query(t.ctx, reservationByID, id))
	if err != nil {
		return allot.Reservation{}, fmt.Errorf("postgres: reservation %s: %w", id, err)
	}
	if !ok || v.ProjectID != projectID {
		return allot.Reservation{}, reservationNotFound(id)
	}
	if t.g.fast && t.held[projectID] != nil {
		t.g.knowReservation(v)
	}
	return v, nil
}

// knownReservation returns reservation id of a held project on the fast
// path without reading it: as this transaction wrote or read it, else from
// the store's memory of open reservations when the project's part of it is
// current (allot.OpenReservations).
func (t *pgTx) knownReservation(projectID, id string) (allot.Reservation, bool) {
	if !t.g.fast || t.held[projectID] == nil {
		return allot.Reservation{}, false
	}
	v, ok := t.g.reservations[id]
	if !ok && t.g.openValid[projectID] {
		if v, ok = t.g.open.Get(projectID, id); ok {
			t.g.knowReservation(v)
		}
	}
	if !ok || v.ProjectID != projectID {
		return allot.Reservation{}, false
	}
	v.Holds = slices.Clone(v.Holds)
	return v, true
}

// insertReservation writes a reservation and its holds in one statement
// (one round trip). ON CONFLICT DO NOTHING rather than a unique violation,
// which would abort the transaction; the holds are written only with their
// reservation, so none is written on a conflict and the count is 0.
const insertReservation = `WITH r AS (
		INSERT INTO reservations (` + reservationColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (reservation_id) DO NOTHING
		RETURNING reservation_id, project_id
	), h AS (
		INSERT INTO reservation_holds (reservation_id, idx, project_id, resource_id, amount, committed)
		SELECT r.reservation_id, u.idx - 1, r.project_id, u.resource_id, u.amount, u.committed
		FROM r, unnest($13::text[], $14::bigint[], $15::bigint[]) WITH ORDINALITY AS u(resource_id, amount, committed, idx)
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM h)`

func (t *pgTx) InsertReservation(v allot.Reservation) error {
	if _, err := t.holding("saving reservation "+v.ReservationID, v.ProjectID); err != nil {
		return err
	}
	resources, amounts, committed := holdArrays(v.Holds)
	args := []any{v.ReservationID, v.ProjectID, string(v.State), int64(v.Amount), int64(v.Committed), v.CreatedAt.Unix(), v.ExpiresAt.Unix(),
		unixOrNull(v.SettledAt), v.Actor, v.IdempotencyKey, v.UserID, v.AppUserID, resources, amounts, committed}
	if _, known := t.g.reservations[v.ReservationID]; t.g.fast && !known {
		// The id is new (newReservationID): the write goes with the next
		// round trip (see insertReservationsSQL).
		w := asStoredReservation(v)
		t.g.pending = append(t.g.pending, queued{reservation: &w, insert: true})
		t.g.knowReservation(v)
		return nil
	}
	var rows, holds int
	err := t.tx.QueryRow(t.ctx, insertReservation, args...).Scan(&rows, &holds)
	if err != nil {
		return fmt.Errorf("postgres: insert reservation %s: %w", v.ReservationID, err)
	}
	if rows == 0 {
		return allot.Errorf(allot.ECONFLICT, "reservation %s exists already", v.ReservationID)
	}
	if holds != len(v.Holds) {
		return fmt.Errorf("postgres: insert reservation %s: %d of %d holds written", v.ReservationID, holds, len(v.Holds))
	}
	return nil
}

// holdArrays are the columns of holds, in order.
func holdArrays(holds []allot.Hold) (resources []string, amounts, committed []int64) {
	for _, h := range holds {
		resources = append(resources, h.ResourceID)
		amounts = append(amounts, int64(h.Amount))
		committed = append(committed, int64(h.Committed))
	}
	return resources, amounts, committed
}

// updateReservation settles a reservation and its holds in one statement.
const updateReservation = `WITH r AS (
		UPDATE reservations SET state = $3, committed = $4, settled_at = $5
		WHERE project_id = $1 AND reservation_id = $2
		RETURNING 1
	), h AS (
		UPDATE reservation_holds h SET committed = u.committed
		FROM unnest($6::bigint[]) WITH ORDINALITY AS u(committed, idx)
		WHERE h.reservation_id = $2 AND h.project_id = $1 AND h.idx = u.idx - 1
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM h)`

func (t *pgTx) UpdateReservation(v allot.Reservation) error {
	if _, err := t.holding("saving reservation "+v.ReservationID, v.ProjectID); err != nil {
		return err
	}
	settled := v.SettledHolds()
	_, _, committed := holdArrays(settled)
	args := []any{v.ProjectID, v.ReservationID, string(v.State), int64(v.Committed), unixOrNull(v.SettledAt), committed}
	if was, known := t.g.reservations[v.ReservationID]; t.g.fast && known && was.ProjectID == v.ProjectID &&
		was.State == allot.ReservationOpen && len(was.Holds) == len(v.Holds) {
		// The transaction knows the reservation open, under its project's
		// lock: the settle writes the row and each hold it writes once.
		// The write goes with the next round trip, and checks that it did
		// so (settleReservationsSQL).
		w := asStoredReservation(v)
		t.g.pending = append(t.g.pending, queued{reservation: &w})
		t.g.knowReservation(v)
		return nil
	}
	var rows, holds int
	err := t.tx.QueryRow(t.ctx, updateReservation, args...).Scan(&rows, &holds)
	if err != nil {
		return fmt.Errorf("postgres: update reservation %s: %w", v.ReservationID, err)
	}
	if rows == 0 {
		return reservationNotFound(v.ReservationID)
	}
	if holds != len(settled) {
		return fmt.Errorf("postgres: update reservation %s: %d of %d holds written", v.ReservationID, holds, len(settled))
	}
	return nil
}

var readOnly = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// FindReservation returns a reservation by id. ENOTFOUND if there is none.
func (s *Store) FindReservation(ctx context.Context, id string) (allot.Reservation, error) {
	// One statement: its own snapshot, no transaction around it.
	v, ok, err := scanReservation(s.pool.Query(ctx, reservationByID, id))
	if err != nil {
		return allot.Reservation{}, fmt.Errorf("postgres: reservation %s: %w", id, err)
	}
	if !ok {
		return allot.Reservation{}, reservationNotFound(id)
	}
	return v, nil
}

// Reservations returns one page of a project's reservations, newest first,
// and the count of all that match, from one snapshot.
func (s *Store) Reservations(ctx context.Context, q allot.ReservationQuery) ([]allot.Reservation, int, error) {
	if err := allot.ValidateID("project_id", q.ProjectID); err != nil {
		return nil, 0, err
	}
	where, args := `WHERE project_id = $1`, []any{q.ProjectID}
	if q.State != "" {
		where, args = where+` AND state = $2`, append(args, string(q.State))
	}
	var (
		vs    []allot.Reservation
		count int
	)
	err := s.withTx(ctx, readOnly, func(tx pgx.Tx) (err error) {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM reservations `+where, args...).Scan(&count); err != nil {
			return err
		}
		vs, err = queryReservations(ctx, tx, where+` ORDER BY created_at DESC, reservation_id DESC LIMIT `+
			strconv.Itoa(max(q.Page.Limit, 0))+` OFFSET `+strconv.Itoa(max(q.Page.Offset, 0)), args...)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: reservations of %s: %w", q.ProjectID, err)
	}
	return vs, count, nil
}

// DueReservations returns up to limit open reservations whose expiry is at
// or before now, the most overdue first.
func (s *Store) DueReservations(ctx context.Context, now time.Time, limit int) ([]allot.Reservation, error) {
	var vs []allot.Reservation
	err := s.withTx(ctx, readOnly, func(tx pgx.Tx) (err error) {
		vs, err = queryReservations(ctx, tx, `WHERE state = 'open' AND expires_at <= $1 ORDER BY expires_at, reservation_id LIMIT $2`,
			now.Unix(), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: due reservations: %w", err)
	}
	return vs, nil
}

// insertReservationsSQL writes new reservations and their holds, given as
// one array per column, as writes whose answer is known: a new id (time and
// 64 random bits) finds no row, so every reservation and hold is written.
// Should an id be there after all, the unique violation fails the group's
// transaction, and the group runs again the slow way, where
// insertReservation answers ECONFLICT.
const insertReservationsSQL = `WITH r AS (
		INSERT INTO reservations (` + reservationColumns + `)
		SELECT * FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::BIGINT[], $6::BIGINT[], $7::BIGINT[],
			$8::BIGINT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[])
		RETURNING 1
	), h AS (
		INSERT INTO reservation_holds (reservation_id, idx, project_id, resource_id, amount, committed)
		SELECT * FROM unnest($13::TEXT[], $14::INTEGER[], $15::TEXT[], $16::TEXT[], $17::BIGINT[], $18::BIGINT[])
		RETURNING 1
	)
	SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM h)`

// settleReservationsSQL settles reservations the transaction knows open,
// given as one array per column, as writes whose answer is known: every
// row is open and written once. It fails (division by zero) if they are
// not, which fails the group's transaction; the group then runs again the
// slow way, each reservation read from its rows.
//
// It is for a group whose settles have one hold each, the common case,
// whose holds' rows a settle does not write (allot.Reservation.SettledHolds);
// settleSplitReservationsSQL writes the holds of split reservations too,
// and checks that each was written once. Keeping the holds' UPDATE out of
// the common statement also keeps a plan from scanning reservation_holds: a
// join of a table to an unnest, planned while the table was small and
// cached (with autovacuum off, until the connection closes), scanned every
// hold once a group, measured at 337 million rows read in a benchmark's
// runs.
const (
	settleRowsSQL = `WITH r AS (
		UPDATE reservations r SET state = u.state, committed = u.committed, settled_at = u.settled_at
		FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::BIGINT[]) AS u(project_id, reservation_id, state, committed, settled_at)
		WHERE r.project_id = u.project_id AND r.reservation_id = u.reservation_id AND r.state = 'open'
		RETURNING 1
	)`
	settleReservationsSQL = settleRowsSQL + `
	SELECT 1 / ((SELECT count(*) FROM r) = $6::BIGINT)::INTEGER`
	settleSplitReservationsSQL = settleRowsSQL + `, h AS (
		UPDATE reservation_holds h SET committed = u.committed
		FROM unnest($7::TEXT[], $8::INTEGER[], $9::BIGINT[]) AS u(reservation_id, idx, committed)
		WHERE h.reservation_id = u.reservation_id AND h.idx = u.idx
		RETURNING 1
	)
	SELECT 1 / ((SELECT count(*) FROM r) = $6::BIGINT AND (SELECT count(*) FROM h) = $10::BIGINT)::INTEGER`
)

// reservationWrites gathers queued reservation writes into the arguments of
// insertReservationsSQL and settleReservationsSQL.
type reservationWrites struct {
	inserts, settles []*allot.Reservation
}

func (w *reservationWrites) add(q queued) {
	if q.insert {
		w.inserts = append(w.inserts, q.reservation)
	} else {
		w.settles = append(w.settles, q.reservation)
	}
}

// statements returns the inserts, then the settles, as one statement each.
func (w *reservationWrites) statements() []queued {
	var out []queued
	if n := len(w.inserts); n > 0 {
		var (
			ids, projects, states, actors, keys, users, apps = make([]string, n), make([]string, n), make([]string, n),
				make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			amounts, committed, created, expires = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			settled                              = make([]pgtype.Int8, n)
			hIDs, hProjects, hResources          []string
			hIdx                                 []int32
			hAmounts, hCommitted                 []int64
		)
		for i, v := range w.inserts {
			ids[i], projects[i], states[i], actors[i], keys[i] = v.ReservationID, v.ProjectID, string(v.State), v.Actor, v.IdempotencyKey
			users[i], apps[i] = v.UserID, v.AppUserID
			amounts[i], committed[i], created[i], expires[i] = int64(v.Amount), int64(v.Committed), v.CreatedAt.Unix(), v.ExpiresAt.Unix()
			if !v.SettledAt.IsZero() {
				settled[i] = pgtype.Int8{Int64: v.SettledAt.Unix(), Valid: true}
			}
			for j, h := range v.Holds {
				hIDs, hIdx, hProjects = append(hIDs, v.ReservationID), append(hIdx, int32(j)), append(hProjects, v.ProjectID)
				hResources, hAmounts, hCommitted = append(hResources, h.ResourceID), append(hAmounts, int64(h.Amount)), append(hCommitted, int64(h.Committed))
			}
		}
		out = append(out, queued{sql: insertReservationsSQL, args: []any{ids, projects, states, amounts, committed, created, expires,
			settled, actors, keys, users, apps, hIDs, hIdx, hProjects, hResources, hAmounts, hCommitted}})
	}
	if n := len(w.settles); n > 0 {
		var (
			projects, ids, states = make([]string, n), make([]string, n), make([]string, n)
			committed             = make([]int64, n)
			settled               = make([]pgtype.Int8, n)
			hIDs                  []string
			hIdx                  []int32
			hCommitted            []int64
		)
		for i, v := range w.settles {
			projects[i], ids[i], states[i], committed[i] = v.ProjectID, v.ReservationID, string(v.State), int64(v.Committed)
			if !v.SettledAt.IsZero() {
				settled[i] = pgtype.Int8{Int64: v.SettledAt.Unix(), Valid: true}
			}
			for j, h := range v.SettledHolds() {
				hIDs, hIdx, hCommitted = append(hIDs, v.ReservationID), append(hIdx, int32(j)), append(hCommitted, int64(h.Committed))
			}
		}
		args := []any{projects, ids, states, committed, settled, int64(n)}
		if len(hIDs) == 0 {
			out = append(out, queued{sql: settleReservationsSQL, args: args})
		} else {
			out = append(out, queued{sql: settleSplitReservationsSQL, args: append(args, hIDs, hIdx, hCommitted, int64(len(hIDs)))})
		}
	}
	return out
}
