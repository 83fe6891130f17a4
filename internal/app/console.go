package app

import (
	"context"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/console"
)

// consoleConfig is what the operator console and the tenant portal run on:
// the same store, service, read model and clock as both APIs, and the
// CLI's ways of issuing credentials.
func (a *App) consoleConfig(cfg Config) console.Config {
	now := func() time.Time { return a.Clock.Now().UTC().Truncate(time.Second) }
	return console.Config{
		Store:     a.Store,
		Service:   a.Service,
		Reader:    a.Reader,
		Summaries: a.Reader,
		Now:       a.Clock.Now,
		Logger:    cfg.Logger,
		// The overview's failed deliveries, scoped as the webhook routes are.
		FailedDeliveries: console.FailedDeliveriesOf(a.Service),
		Issue: console.Issuer{
			AccessKey: func(ctx context.Context, projectID string, expires time.Time) (string, string, error) {
				c, sk, err := allot.IssueCredential(ctx, a.Store, a.keyring, projectID, now(), expires)
				return c.AccessKey, sk, err
			},
			Token: func(ctx context.Context, projectID string, ttl time.Duration) (string, time.Time, error) {
				return NewToken(ctx, a.Store, projectID, now(), ttl)
			},
			AdminKey: func(ctx context.Context, name, sp string, expires time.Time) (string, error) {
				k, key := AdminKeyRecord(name, sp, now(), expires)
				if err := k.Validate(); err != nil {
					return "", err
				}
				return key, a.Store.CreateAdminKey(ctx, k)
			},
		},
	}
}
