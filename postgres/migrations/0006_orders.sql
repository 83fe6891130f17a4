-- The operator's spec catalog and the orders of CreateMetaStudioOrders.
--
-- A spec is kept as the JSON of allot.CatalogSpec: the catalog is read one
-- spec at a time by its code, never searched by a field. An order keeps its
-- lines (spec, period, subscriptions and the packages each made, main one
-- first) as the JSON of []allot.OrderLine; its packages carry its id in
-- resources.order_id, which the index below finds them by. Every statement
-- may run again over a schema that has it (as the earlier migrations).
CREATE TABLE IF NOT EXISTS catalog_specs (
	spec_code TEXT NOT NULL PRIMARY KEY,
	spec      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS orders (
	order_id   TEXT    NOT NULL PRIMARY KEY,
	project_id TEXT    NOT NULL REFERENCES projects (id),
	order_type INTEGER NOT NULL CHECK (order_type IN (1, 4)),
	created_at BIGINT  NOT NULL,
	lines      TEXT    NOT NULL
);

CREATE INDEX IF NOT EXISTS resources_order ON resources (project_id, order_id) WHERE order_id <> '';
