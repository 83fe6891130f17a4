-- Tenant settings: the service configurations, the user configuration,
-- notice configurations, signed agreements, user quotas and the voice
-- training durations of each tenant, one JSON document per kind and name.
CREATE TABLE IF NOT EXISTS tenant_settings (
    project_id TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    name       TEXT   NOT NULL, -- '' for a tenant's one setting of its kind
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT tenant_settings_pkey PRIMARY KEY (project_id, kind, name),
    CONSTRAINT tenant_settings_project_fk FOREIGN KEY (project_id) REFERENCES projects (id)
);

-- A user's charges (quota checks and ListUserQuotas) read the user's
-- entries alone.
CREATE INDEX IF NOT EXISTS ledger_user ON ledger (project_id, user_id) WHERE user_id <> '';
