package postgres

import (
	"context"
	"fmt"
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
	return vs, rows.Err()
}

func reservationNotFound(id string) error {
	return allot.Errorf(allot.ENOTFOUND, "reservation %s does not exist", id)
}

func (t *pgTx) Reservation(projectID, id string) (allot.Reservation, error) {
	vs, err := queryReservations(t.ctx, t.tx, `WHERE project_id = $1 AND reservation_id = $2`, projectID, id)
	if err != nil {
		return allot.Reservation{}, fmt.Errorf("postgres: reservation %s: %w", id, err)
	}
	if len(vs) == 0 {
		return allot.Reservation{}, reservationNotFound(id)
	}
	return vs[0], nil
}

func (t *pgTx) InsertReservation(v allot.Reservation) error {
	if _, err := t.holding("saving reservation "+v.ReservationID, v.ProjectID); err != nil {
		return err
	}
	// DO NOTHING rather than a unique violation, which would abort the
	// transaction.
	tag, err := t.tx.Exec(t.ctx, `INSERT INTO reservations (`+reservationColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (reservation_id) DO NOTHING`,
		v.ReservationID, v.ProjectID, string(v.State), int64(v.Amount), int64(v.Committed), v.CreatedAt.Unix(), v.ExpiresAt.Unix(),
		unixOrNull(v.SettledAt), v.Actor, v.IdempotencyKey, v.UserID, v.AppUserID)
	if err != nil {
		return fmt.Errorf("postgres: insert reservation %s: %w", v.ReservationID, err)
	}
	if tag.RowsAffected() == 0 {
		return allot.Errorf(allot.ECONFLICT, "reservation %s exists already", v.ReservationID)
	}
	b := &pgx.Batch{}
	for i, h := range v.Holds {
		b.Queue(`INSERT INTO reservation_holds (reservation_id, idx, project_id, resource_id, amount, committed)
			VALUES ($1, $2, $3, $4, $5, $6)`, v.ReservationID, i, v.ProjectID, h.ResourceID, int64(h.Amount), int64(h.Committed))
	}
	if err := t.tx.SendBatch(t.ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: insert holds of reservation %s: %w", v.ReservationID, err)
	}
	return nil
}

func (t *pgTx) UpdateReservation(v allot.Reservation) error {
	if _, err := t.holding("saving reservation "+v.ReservationID, v.ProjectID); err != nil {
		return err
	}
	tag, err := t.tx.Exec(t.ctx, `UPDATE reservations SET state = $3, committed = $4, settled_at = $5
		WHERE project_id = $1 AND reservation_id = $2`,
		v.ProjectID, v.ReservationID, string(v.State), int64(v.Committed), unixOrNull(v.SettledAt))
	if err != nil {
		return fmt.Errorf("postgres: update reservation %s: %w", v.ReservationID, err)
	}
	if tag.RowsAffected() == 0 {
		return reservationNotFound(v.ReservationID)
	}
	b := &pgx.Batch{}
	for i, h := range v.Holds {
		b.Queue(`UPDATE reservation_holds SET committed = $3 WHERE reservation_id = $1 AND idx = $2`, v.ReservationID, i, int64(h.Committed))
	}
	if err := t.tx.SendBatch(t.ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: update holds of reservation %s: %w", v.ReservationID, err)
	}
	return nil
}

var readOnly = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// FindReservation returns a reservation by id. ENOTFOUND if there is none.
func (s *Store) FindReservation(ctx context.Context, id string) (allot.Reservation, error) {
	var vs []allot.Reservation
	err := s.withTx(ctx, readOnly, func(tx pgx.Tx) (err error) {
		vs, err = queryReservations(ctx, tx, `WHERE reservation_id = $1`, id)
		return err
	})
	if err != nil {
		return allot.Reservation{}, fmt.Errorf("postgres: reservation %s: %w", id, err)
	}
	if len(vs) == 0 {
		return allot.Reservation{}, reservationNotFound(id)
	}
	return vs[0], nil
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
