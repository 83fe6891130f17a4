-- Notifications: tenants' notice configurations, operators' webhooks, and
-- the transactional outbox (events and their deliveries, with every
-- attempt). Times are Unix seconds, except next_at, lease_until and an
-- attempt's at, which are Unix milliseconds: retries back off from
-- fractions of a second.
CREATE TABLE IF NOT EXISTS notice_configs (
	project_id TEXT    NOT NULL,
	type       TEXT    NOT NULL CHECK (type IN ('RESOURCE_EXPIRE', 'RESOURCE_LEFT')),
	send_msg   BOOLEAN NOT NULL,
	properties TEXT,   -- NULL: never given; kept byte for byte
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (project_id, type)
);

CREATE TABLE IF NOT EXISTS webhooks (
	id                TEXT    NOT NULL PRIMARY KEY,
	url               TEXT    NOT NULL,
	events            TEXT    NOT NULL, -- ',resource.left,resource.depleted,'
	project_id        TEXT    NOT NULL, -- '' every project of the owner
	sp_project_id     TEXT    NOT NULL, -- '' an admin's
	secret_ciphertext BYTEA    NOT NULL,
	created_at        BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS events (
	id         TEXT    NOT NULL PRIMARY KEY,
	project_id TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	at         BIGINT NOT NULL,
	body       BYTEA    NOT NULL
);

CREATE TABLE IF NOT EXISTS deliveries (
	id           TEXT    NOT NULL PRIMARY KEY, -- event id '.' webhook id
	webhook_id   TEXT    NOT NULL,
	event_id     TEXT    NOT NULL,
	event_type   TEXT    NOT NULL,
	state        TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	created_at   BIGINT NOT NULL,
	next_at      BIGINT NOT NULL,
	lease_until  BIGINT NOT NULL DEFAULT 0,
	claim        TEXT    NOT NULL DEFAULT '',
	attempts     INTEGER NOT NULL DEFAULT 0,
	delivered_at BIGINT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_of_webhook ON deliveries (webhook_id, created_at);

CREATE TABLE IF NOT EXISTS delivery_attempts (
	delivery_id TEXT    NOT NULL,
	n           INTEGER NOT NULL,
	at          BIGINT NOT NULL,
	status_code INTEGER NOT NULL,
	latency_ms  BIGINT NOT NULL,
	error       TEXT    NOT NULL,
	PRIMARY KEY (delivery_id, n)
);
