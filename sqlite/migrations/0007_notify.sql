-- Notifications: tenants' notice configurations, operators' webhooks, and
-- the transactional outbox (events and their deliveries, with every
-- attempt). Times are Unix seconds, except next_at, lease_until and an
-- attempt's at, which are Unix milliseconds: retries back off from
-- fractions of a second.
CREATE TABLE notice_configs (
	project_id TEXT    NOT NULL,
	type       TEXT    NOT NULL CHECK (type IN ('RESOURCE_EXPIRE', 'RESOURCE_LEFT')),
	send_msg   INTEGER NOT NULL,
	properties TEXT,   -- NULL: never given; kept byte for byte
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (project_id, type)
) WITHOUT ROWID;

CREATE TABLE webhooks (
	id                TEXT    NOT NULL PRIMARY KEY,
	url               TEXT    NOT NULL,
	events            TEXT    NOT NULL, -- ',resource.left,resource.depleted,'
	project_id        TEXT    NOT NULL, -- '' every project of the owner
	sp_project_id     TEXT    NOT NULL, -- '' an admin's
	secret_ciphertext BLOB    NOT NULL,
	created_at        INTEGER NOT NULL
);

CREATE TABLE events (
	id         TEXT    NOT NULL PRIMARY KEY,
	project_id TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	at         INTEGER NOT NULL,
	body       BLOB    NOT NULL
);

CREATE TABLE deliveries (
	id           TEXT    NOT NULL PRIMARY KEY, -- event id '.' webhook id
	webhook_id   TEXT    NOT NULL,
	event_id     TEXT    NOT NULL,
	event_type   TEXT    NOT NULL,
	state        TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
	created_at   INTEGER NOT NULL,
	next_at      INTEGER NOT NULL,
	lease_until  INTEGER NOT NULL DEFAULT 0,
	claim        TEXT    NOT NULL DEFAULT '',
	attempts     INTEGER NOT NULL DEFAULT 0,
	delivered_at INTEGER
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_of_webhook ON deliveries (webhook_id, created_at);

CREATE TABLE delivery_attempts (
	delivery_id TEXT    NOT NULL,
	n           INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	status_code INTEGER NOT NULL,
	latency_ms  INTEGER NOT NULL,
	error       TEXT    NOT NULL,
	PRIMARY KEY (delivery_id, n)
) WITHOUT ROWID;
