package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot"

	sqlite3 "modernc.org/sqlite/lib"
)

const reservationColumns = `reservation_id, project_id, state, amount, committed, created_at, expires_at, settled_at,
	actor, idempotency_key, user_id, app_user_id`

// querier is what reservation reads need: a transaction of Update or of read.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryReservations reads reservations and then their holds.
func queryReservations(ctx context.Context, q querier, where string, args ...any) ([]allot.Reservation, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+reservationColumns+` FROM reservations `+where, args...)
	if err != nil {
		return nil, err
	}
	var (
		vs    []allot.Reservation
		index = map[string]int{}
	)
	for rows.Next() {
		var (
			v                                  allot.Reservation
			state                              string
			amount, committed, created, expire int64
			settled                            sql.NullInt64
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
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, nil
	}
	ids := make([]any, len(vs))
	for i, v := range vs {
		ids[i] = v.ReservationID
	}
	rows, err = q.QueryContext(ctx, `SELECT reservation_id, resource_id, amount, committed FROM reservation_holds
		WHERE reservation_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY reservation_id, idx`, ids...)
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

// reservationByID reads one reservation and its holds in one statement,
// prepared once: a commit reads its reservation twice (FindReservation for
// its project, then Reservation under the project's lock).
const reservationByID = `SELECT r.reservation_id, r.project_id, r.state, r.amount, r.committed, r.created_at, r.expires_at,
		r.settled_at, r.actor, r.idempotency_key, r.user_id, r.app_user_id, h.resource_id, h.amount, h.committed
	FROM reservations r LEFT JOIN reservation_holds h ON h.reservation_id = r.reservation_id
	WHERE r.reservation_id = ? ORDER BY h.idx`

// reservationStmts are the prepared statements of the reservation reads.
type reservationStmts struct {
	tx   *sql.Stmt // reservationByID on the writer, bound to each transaction
	read *sql.Stmt // reservationByID on the readers
}

func (s *Store) prepareReservations(ctx context.Context) (err error) {
	if s.rsv.tx, err = s.w.PrepareContext(ctx, reservationByID); err != nil {
		return fmt.Errorf("sqlite: prepare reservation read: %w", err)
	}
	if s.rsv.read, err = s.r.PrepareContext(ctx, reservationByID); err != nil {
		return fmt.Errorf("sqlite: prepare reservation read: %w", err)
	}
	return nil
}

func (st reservationStmts) stmts() []*sql.Stmt { return []*sql.Stmt{st.tx, st.read} }

// scanReservation reads the rows of reservationByID; ok is false if there
// are none.
func scanReservation(rows *sql.Rows, err error) (v allot.Reservation, ok bool, _ error) {
	if err != nil {
		return v, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			state                              string
			amount, committed, created, expire int64
			settled                            sql.NullInt64
			resource                           sql.NullString
			held, settledPart                  sql.NullInt64
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

func (t *sqliteTx) Reservation(projectID, id string) (allot.Reservation, error) {
	g := t.group
	held := t.held[projectID] != nil
	if held {
		// As the group has it, else from the store's memory when the
		// project's part of it is current.
		v, ok := g.reservations[id]
		if !ok && g.openValid[projectID] {
			if v, ok = t.s.openRsv.Get(projectID, id); ok {
				g.knowReservation(v)
			}
		}
		if ok && v.ProjectID == projectID {
			v.Holds = slices.Clone(v.Holds)
			return v, nil
		}
	}
	v, ok, err := scanReservation(t.tx.StmtContext(t.ctx, t.s.rsv.tx).QueryContext(t.ctx, id))
	if err != nil {
		return allot.Reservation{}, fmt.Errorf("sqlite: reservation %s: %w", id, err)
	}
	if !ok || v.ProjectID != projectID {
		return allot.Reservation{}, reservationNotFound(id)
	}
	if held {
		g.knowReservation(v)
	}
	return v, nil
}

func (t *sqliteTx) InsertReservation(v allot.Reservation) error {
	if _, err := t.holding("saving reservation "+v.ReservationID, v.ProjectID); err != nil {
		return err
	}
	_, err := t.stmt(stInsertReservation).ExecContext(t.ctx,
		v.ReservationID, v.ProjectID, string(v.State), int64(v.Amount), int64(v.Committed), v.CreatedAt.Unix(), v.ExpiresAt.Unix(),
		unixOrNull(v.SettledAt), v.Actor, v.IdempotencyKey, v.UserID, v.AppUserID)
	switch constraint(err) {
	case 0:
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return allot.Errorf(allot.ECONFLICT, "reservation %s exists already", v.ReservationID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: insert reservation %s: %w", v.ReservationID, err)
	}
	for i, h := range v.Holds {
		if _, err := t.stmt(stInsertHold).ExecContext(t.ctx, v.ReservationID, i, v.ProjectID, h.ResourceID, int64(h.Amount), int64(h.Committed)); err != nil {
			return fmt.Errorf("sqlite: insert hold of reservation %s: %w", v.ReservationID, err)
		}
	}
	t.group.knowReservation(v)
	return nil
}

func (t *sqliteTx) UpdateReservation(v allot.Reservation) error {
	if _, err := t.holding("saving reservation "+v.ReservationID, v.ProjectID); err != nil {
		return err
	}
	// A reservation the group knows open may have come from the store's
	// memory: the settle writes it only if it is open in the file, and
	// otherwise drops the memory of its project and runs the group again.
	st := stUpdateReservation
	if was, ok := t.group.reservations[v.ReservationID]; ok && was.State == allot.ReservationOpen {
		st = stSettleReservation
	}
	res, err := t.stmt(st).ExecContext(t.ctx, string(v.State), int64(v.Committed), unixOrNull(v.SettledAt), v.ProjectID, v.ReservationID)
	if err := affected(res, err); err != nil {
		if errors.Is(err, errNoRow) && st == stSettleReservation {
			t.s.openRsv.Drop(v.ProjectID)
			return fmt.Errorf("sqlite: settle reservation %s: %w", v.ReservationID, errStale)
		}
		if errors.Is(err, errNoRow) {
			return reservationNotFound(v.ReservationID)
		}
		return fmt.Errorf("sqlite: update reservation %s: %w", v.ReservationID, err)
	}
	for i, h := range v.SettledHolds() {
		if _, err := t.stmt(stUpdateHold).ExecContext(t.ctx, int64(h.Committed), v.ReservationID, i); err != nil {
			return fmt.Errorf("sqlite: update hold of reservation %s: %w", v.ReservationID, err)
		}
	}
	t.group.knowReservation(v)
	return nil
}

// unixOrNull is NULL for the zero time.
func unixOrNull(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.Unix(), Valid: true}
}

// FindReservation returns a reservation by id. ENOTFOUND if there is none.
func (s *Store) FindReservation(ctx context.Context, id string) (allot.Reservation, error) {
	ctx, err := lookup(ctx)
	if err != nil {
		return allot.Reservation{}, err
	}
	// One statement: its own snapshot.
	v, ok, err := scanReservation(s.rsv.read.QueryContext(ctx, id))
	if err != nil {
		return allot.Reservation{}, fmt.Errorf("sqlite: reservation %s: %w", id, err)
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
	where, args := `WHERE project_id = ?`, []any{q.ProjectID}
	if q.State != "" {
		where, args = where+` AND state = ?`, append(args, string(q.State))
	}
	var (
		vs    []allot.Reservation
		count int
	)
	err := s.read(ctx, func(tx *sql.Tx) (err error) {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reservations `+where, args...).Scan(&count); err != nil {
			return err
		}
		vs, err = queryReservations(ctx, tx, where+` ORDER BY created_at DESC, reservation_id DESC LIMIT ? OFFSET ?`,
			append(args, max(q.Page.Limit, 0), max(q.Page.Offset, 0))...)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: reservations of %s: %w", q.ProjectID, err)
	}
	return vs, count, nil
}

// DueReservations returns up to limit open reservations whose expiry is at
// or before now, the most overdue first.
func (s *Store) DueReservations(ctx context.Context, now time.Time, limit int) ([]allot.Reservation, error) {
	var vs []allot.Reservation
	err := s.read(ctx, func(tx *sql.Tx) (err error) {
		vs, err = queryReservations(ctx, tx, `WHERE state = 'open' AND expires_at <= ? ORDER BY expires_at, reservation_id LIMIT ?`,
			now.Unix(), limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: due reservations: %w", err)
	}
	return vs, nil
}
