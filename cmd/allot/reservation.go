package main

import (
	"context"
	"fmt"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// The reservation commands call the service as cliActor and print the
// body the management API would answer, like the other management
// commands.

// reserve runs 'allot reserve JSON': the body of POST /admin/v1/reservations.
func (m *Main) reserve(ctx context.Context, args []string) error {
	return m.reservationStep(ctx, "reserve", args, false, func(svc *allot.Service, _ string, body []byte) (allot.ReservationResult, error) {
		req, err := api.DecodeReserveRequest(body)
		if err != nil {
			return allot.ReservationResult{}, err
		}
		return svc.Reserve(ctx, cliActor, req)
	})
}

// commit runs 'allot commit --reservation ID JSON'.
func (m *Main) commit(ctx context.Context, args []string) error {
	return m.reservationStep(ctx, "commit", args, true, func(svc *allot.Service, id string, body []byte) (allot.ReservationResult, error) {
		req, err := api.DecodeCommitRequest(id, body)
		if err != nil {
			return allot.ReservationResult{}, err
		}
		return svc.Commit(ctx, cliActor, req)
	})
}

// release runs 'allot release --reservation ID'.
func (m *Main) release(ctx context.Context, args []string) error {
	return m.reservationStep(ctx, "release", args, true, func(svc *allot.Service, id string, body []byte) (allot.ReservationResult, error) {
		req, err := api.DecodeReleaseRequest(id, body)
		if err != nil {
			return allot.ReservationResult{}, err
		}
		return svc.Release(ctx, cliActor, req)
	})
}

func (m *Main) reservationStep(ctx context.Context, name string, args []string, byID bool,
	run func(svc *allot.Service, id string, body []byte) (allot.ReservationResult, error)) error {
	var c common
	fs := m.flags(name, &c)
	var id *string
	if byID {
		id = fs.String("reservation", "", "reservation id")
	}
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	// A release reads no body; a commit and a reservation need one.
	body, err := m.jsonArg(fs, name == "release")
	if err != nil {
		return err
	}
	rid := ""
	if byID {
		if rid = *id; rid == "" {
			return usageError{fmt.Errorf("%s: --reservation is required", name)}
		}
	}
	svc, _, closeStore, err := openService(ctx, &c)
	if err != nil {
		return err
	}
	defer closeStore()
	out, err := run(svc, rid, body)
	if err != nil {
		return opError{err}
	}
	_, answer, err := api.EncodeReservationResult(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(m.Stdout, "%s\n", answer)
	return err
}

// reservations runs 'allot reservations --project P [--state S]'.
func (m *Main) reservations(ctx context.Context, args []string) error {
	return runPage(m, ctx, args, "reservations", []string{"project", "state", "limit", "offset"},
		map[string]string{"project": "project_id"}, api.ParseReservationQuery,
		func(ctx context.Context, svc *allot.Service, rq allot.ReservationQuery) ([]byte, error) {
			vs, count, err := svc.ListReservations(ctx, cliActor, rq)
			if err != nil {
				return nil, opError{err}
			}
			return api.EncodeReservationPage(vs, count)
		})
}
