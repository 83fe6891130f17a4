-- Tenant settings: the service configurations, the user configuration,
-- notice configurations, signed agreements, user quotas and the voice
-- training durations of each tenant, one JSON document per kind and name.
CREATE TABLE tenant_settings (
	project_id TEXT    NOT NULL REFERENCES projects (id),
	kind       TEXT    NOT NULL,
	name       TEXT    NOT NULL, -- '' for a tenant's one setting of its kind
	value      TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (project_id, kind, name)
) STRICT, WITHOUT ROWID;

-- A user's charges (quota checks and ListUserQuotas) read the user's
-- entries alone.
CREATE INDEX ledger_user ON ledger (project_id, user_id) WHERE user_id <> '';
