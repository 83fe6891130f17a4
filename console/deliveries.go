package console

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/allot-dev/allot"
)

// deliveriesPage is how many failed deliveries the overview shows a page.
const deliveriesPage = 10

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

// FailedDeliveriesOf returns one page of the failed deliveries of the
// webhooks the actor owns (an admin: every webhook; an SP key: its own), the
// most recently failed first, and how many there are: one store query
// (Service.FailedDeliveries) across the webhooks, whatever their number.
func FailedDeliveriesOf(svc *allot.Service) func(ctx context.Context, actor allot.Actor, p allot.Page) ([]FailedDelivery, int, error) {
	return func(ctx context.Context, actor allot.Actor, p allot.Page) ([]FailedDelivery, int, error) {
		ds, count, err := svc.FailedDeliveries(ctx, actor, p)
		if err != nil {
			return nil, 0, err
		}
		out := make([]FailedDelivery, 0, len(ds))
		for _, d := range ds {
			f := FailedDelivery{WebhookID: d.WebhookID, DeliveryID: d.ID, URL: bareURL(d.URL), EventID: d.EventID, Event: d.EventType,
				ProjectID: d.ProjectID, SPProjectID: d.SPProjectID, Attempts: d.Attempts, At: d.FailedAt}
			if d.Attempts > 0 {
				f.StatusCode, f.Error, f.At = d.Last.StatusCode, d.Last.Error, d.Last.At
			}
			out = append(out, f)
		}
		return out, count, nil
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
