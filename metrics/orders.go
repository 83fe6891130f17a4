package metrics

import (
	"context"
	"time"

	"github.com/allot-dev/allot"
)

func (t *timedStore) PutCatalog(ctx context.Context, specs []allot.CatalogSpec) error {
	defer t.m.observeStore("put_catalog", time.Now())
	return t.Store.PutCatalog(ctx, specs)
}

func (t *timedStore) Catalog(ctx context.Context) ([]allot.CatalogSpec, error) {
	defer t.m.observeStore("catalog", time.Now())
	return t.Store.Catalog(ctx)
}

func (t *timedStore) FindOrder(ctx context.Context, projectID, orderID string) (allot.Order, error) {
	defer t.m.observeStore("find_order", time.Now())
	return t.Store.FindOrder(ctx, projectID, orderID)
}

func (t *timedStore) OrderResources(ctx context.Context, q allot.OrderResourceQuery) ([]allot.Resource, error) {
	defer t.m.observeStore("order_resources", time.Now())
	return t.Store.OrderResources(ctx, q)
}

func (t *timedStore) OrderResourcesPage(ctx context.Context, q allot.OrderResourceQuery, p allot.Page) ([]allot.Resource, int, error) {
	defer t.m.observeStore("order_resources_page", time.Now())
	return t.Store.OrderResourcesPage(ctx, q, p)
}
