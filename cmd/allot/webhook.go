package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/api"
)

// The webhook commands: the management API's webhook routes, run against
// the database directly as an administrator. Their output is the API's.
//
//	allot webhook create JSON            {"url":...,"events":[...],"secret"?,"project_id"?}; shows the secret once
//	allot webhook list
//	allot webhook delete ID
//	allot webhook deliveries ID [--limit N]
//	allot webhook redeliver ID DELIVERY_ID

func (m *Main) webhook(ctx context.Context, sub string, args []string) error {
	var c common
	fs := m.flags("webhook "+sub, &c)
	limit := 100
	if sub == "deliveries" {
		fs.IntVar(&limit, "limit", 100, "at most this many deliveries, newest first (1..1000)")
	}
	if err := m.parseArgs(fs, args); err != nil {
		return err
	}
	want := map[string]int{"create": 1, "list": 0, "delete": 1, "deliveries": 1, "redeliver": 2}[sub]
	if fs.NArg() != want {
		return usageError{fmt.Errorf("webhook %s: takes %d argument(s), got %d", sub, want, fs.NArg())}
	}
	var body []byte
	var err error
	if sub == "create" {
		if body, err = m.jsonArg(fs, false); err != nil {
			return err
		}
	}
	svc, store, closeStore, err := openService(ctx, &c)
	if err != nil {
		return err
	}
	defer closeStore()
	var out any
	switch sub {
	case "create":
		req, err := api.DecodeWebhookRequest(body)
		if err != nil {
			return opError{err}
		}
		keyring, err := m.keyring(ctx, &c, store)
		if err != nil {
			return err
		}
		w, err := svc.CreateWebhook(ctx, cliActor, req, api.SealWebhookSecret(keyring))
		if err != nil {
			return opError{err}
		}
		out = api.CreatedWebhook{Webhook: w, Secret: req.Secret}
	case "list":
		ws, err := svc.ListWebhooks(ctx, cliActor)
		if err != nil {
			return opError{err}
		}
		b, err := api.EncodeWebhooks(ws)
		if err != nil {
			return err
		}
		out = json.RawMessage(b)
	case "delete":
		if err := svc.DeleteWebhook(ctx, cliActor, fs.Arg(0)); err != nil {
			return opError{err}
		}
		out = map[string]string{"deleted": fs.Arg(0)}
	case "deliveries":
		if limit < 1 || limit > 1000 {
			return opError{allot.Invalid("--limit", "%d is out of range 1..1000", limit)}
		}
		ds, err := svc.Deliveries(ctx, cliActor, fs.Arg(0), limit)
		if err != nil {
			return opError{err}
		}
		b, err := api.EncodeDeliveries(ds)
		if err != nil {
			return err
		}
		out = json.RawMessage(b)
	case "redeliver":
		// Due now by the wall clock: the next dispatch round of any node
		// sends it.
		if err := svc.Redeliver(ctx, cliActor, fs.Arg(0), fs.Arg(1), time.Now()); err != nil {
			return opError{err}
		}
		out = map[string]string{"delivery_id": fs.Arg(1), "state": string(allot.DeliveryPending)}
	}
	return json.NewEncoder(m.Stdout).Encode(out)
}
