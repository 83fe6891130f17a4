package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/allot-dev/allot"
)

// deliveriesPerWebhook bounds how many of a webhook's newest deliveries the
// overview looks through for failed ones; deliveriesPage is how many it
// shows a page.
const (
	deliveriesPerWebhook = 100
	deliveriesPage       = 10
)

// FailedDelivery is a webhook delivery that failed, for the overview.
type FailedDelivery struct {
	WebhookID, DeliveryID string
	// URL is the webhook's URL without its query or fragment, where a
	// receiver's own token might be.
	URL     string
	EventID string
	Event   string
	// ProjectID is the project the webhook is limited to ("" every project
	// its owner may see); SPProjectID its owner ("" an admin).
	ProjectID, SPProjectID string
	Attempts               int
	// StatusCode, Error and At are the last attempt's (StatusCode 0: no
	// answer).
	StatusCode int
	Error      string
	At         time.Time
}

// FailedDeliveriesOf lists the failed deliveries of the webhooks the actor
// owns (an admin: every webhook; an SP key: its own), newest first, through
// the same service calls as the management API's webhook routes: each
// webhook's newest deliveriesPerWebhook deliveries are looked through.
func FailedDeliveriesOf(svc *allot.Service) func(ctx context.Context, actor allot.Actor) ([]FailedDelivery, error) {
	return func(ctx context.Context, actor allot.Actor) ([]FailedDelivery, error) {
		hooks, err := svc.ListWebhooks(ctx, actor)
		if err != nil {
			return nil, err
		}
		var out []FailedDelivery
		for _, w := range hooks {
			ds, err := svc.Deliveries(ctx, actor, w.ID, deliveriesPerWebhook)
			if err != nil {
				return nil, err
			}
			for _, d := range ds {
				if d.State != allot.DeliveryFailed {
					continue
				}
				f := FailedDelivery{WebhookID: w.ID, DeliveryID: d.ID, URL: bareURL(w.URL), EventID: d.EventID, Event: d.EventType,
					ProjectID: w.ProjectID, SPProjectID: w.SPProjectID, Attempts: len(d.Attempts), At: d.CreatedAt}
				if n := len(d.Attempts); n > 0 {
					last := d.Attempts[n-1]
					f.StatusCode, f.Error, f.At = last.StatusCode, last.Error, last.At
				}
				out = append(out, f)
			}
		}
		slices.SortStableFunc(out, func(a, b FailedDelivery) int { return b.At.Compare(a.At) })
		return out, nil
	}
}

// bareURL drops a URL's query and fragment.
func bareURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String()
}

// redeliver takes the overview's redeliver form: the first post shows a
// confirmation, the second (step "commit") makes the delivery pending
// again through the management API's service call and goes back to the
// overview.
func (c *Console) redeliver(w http.ResponseWriter, r *http.Request, s *session) {
	if c.h.cfg.FailedDeliveries == nil {
		c.h.fail(w, r, s, "/console/", allot.Errorf(allot.ENOTFOUND, "there are no webhooks"))
		return
	}
	d := struct{ WebhookID, DeliveryID string }{r.PostFormValue("webhook_id"), r.PostFormValue("delivery_id")}
	if r.PostFormValue("step") != "commit" {
		// The confirmation names only what the credential may see.
		err := allot.ValidateID("webhook_id", d.WebhookID)
		if err == nil {
			err = allot.ValidateID("delivery_id", d.DeliveryID)
		}
		if err == nil {
			_, err = c.h.cfg.Service.Deliveries(r.Context(), s.actor, d.WebhookID, 1)
		}
		if err != nil {
			c.h.fail(w, r, s, "/console/", err)
			return
		}
		c.h.render(w, r, http.StatusOK, "redeliver", page{Title: "Redeliver", Prefix: "/console/", Session: s, Data: d})
		return
	}
	if err := c.h.cfg.Service.Redeliver(r.Context(), s.actor, d.WebhookID, d.DeliveryID, c.h.cfg.Now()); err != nil {
		c.h.fail(w, r, s, "/console/", err)
		return
	}
	http.Redirect(w, r, "/console/overview?"+url.Values{"redelivered": {d.DeliveryID}}.Encode(), http.StatusSeeOther)
}
