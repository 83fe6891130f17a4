-- allot schema, version 1.
--
-- Written for PostgreSQL and for the distributed databases that speak its
-- protocol (CockroachDB, YugabyteDB):
--   * every statement is idempotent (IF NOT EXISTS), because a distributed
--     database may apply a multi-statement schema change only in part, and a
--     rerun must then finish it;
--   * no SERIAL, sequences, triggers, functions, partial indexes or
--     deferrable constraints;
--   * every tenant table's primary key starts with the project id, so one
--     tenant's rows are contiguous and different tenants spread across ranges;
--   * times are BIGINT Unix seconds (the API's own unit; no time zone or
--     precision differences between databases); quantities are BIGINT
--     millionths (allot.Quantity); expiry times are NULL when unset.
-- Constraint names are given explicitly: the store maps violations to
-- errors by these names. The CHECK constraints repeat the domain's
-- enumerations and ranges as a second line of defence (the Go code validates
-- first), like the SQLite schema does.

CREATE TABLE IF NOT EXISTS projects (
    id            TEXT    NOT NULL,
    name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    region_id     TEXT    NOT NULL,
    sp_project_id TEXT,   -- NULL: not a customer
    created_at    BIGINT  NOT NULL,
    -- version grows by one with every committed write that adds resources
    -- or assignments to the project; next_seq is the Seq its next row gets
    -- (resources and assignments share it). This row is the one place that
    -- serialises writers of a project.
    version       BIGINT  NOT NULL CHECK (version >= 1),
    next_seq      BIGINT  NOT NULL CHECK (next_seq >= 1),
    CONSTRAINT projects_pkey PRIMARY KEY (id),
    CONSTRAINT projects_sp_fk FOREIGN KEY (sp_project_id) REFERENCES projects (id),
    CHECK (sp_project_id <> id)
);

-- The primary key is (project, seq): every tenant read is "this project's
-- rows in seq order", which on a database that clusters by primary key
-- (CockroachDB, YugabyteDB) is one contiguous range. resource_id is unique
-- within a project, not globally.
CREATE TABLE IF NOT EXISTS resources (
    project_id        TEXT    NOT NULL,
    seq               BIGINT  NOT NULL CHECK (seq >= 1),
    resource_id       TEXT    NOT NULL,
    version           BIGINT  NOT NULL CHECK (version >= 1),
    order_id          TEXT    NOT NULL, -- '' when unset
    asset_id          TEXT,             -- NULL: bound to no asset
    asset_name        TEXT    NOT NULL CHECK (length(asset_name) <= 255),
    expire_time       BIGINT  CHECK (expire_time >= 0), -- NULL: no expiry
    resource_type     TEXT    NOT NULL,
    business_type     TEXT    NOT NULL CHECK (business_type IN (
        'VOICE_CLONE', 'SYNTHETICS_SOUND', 'ASSET_MANAGER', 'MODELING_2D', 'LIVE_2D',
        'VIDEO_2D', 'CHAT_2D', 'BUSINESS_CARD_2D', 'PICTURE_2D', 'MODELING_3D',
        'VDS_3D', 'TTSA_3D', 'FLEXUS_2D')),
    sub_resource_type TEXT    NOT NULL CHECK (sub_resource_type IN (
        '', 'voice_clone_flexus', 'modeling_count_2d_model_flexus', 'video_time_flexus_2d_model')),
    is_sub_resource   BOOLEAN NOT NULL,
    charging_mode     TEXT    NOT NULL CHECK (charging_mode IN ('PERIODIC', 'ONE_TIME', 'ON_DEMAND')),
    resource_source   TEXT    NOT NULL CHECK (resource_source IN ('PURCHASED', 'SP_ALLOCATED', 'ADMIN_ALLOCATED')),
    amount            BIGINT  NOT NULL CHECK (amount BETWEEN 0 AND 1000000000000), -- allot.MaxResourceAmount
    usage             BIGINT  NOT NULL,
    status            INTEGER NOT NULL CHECK (status IN (0, 1)),
    unit              TEXT    NOT NULL CHECK (unit IN (
        'NUM', 'MIN', 'HOUR', 'CHANNEL', 'GB', 'MILLION_WORDS', 'TEN_THOUSAND_WORDS', 'TIME')),
    CONSTRAINT resources_pkey PRIMARY KEY (project_id, seq),
    CONSTRAINT resources_id_key UNIQUE (project_id, resource_id),
    CONSTRAINT resources_project_fk FOREIGN KEY (project_id) REFERENCES projects (id),
    CHECK (usage BETWEEN 0 AND amount),
    CHECK (asset_id IS NOT NULL OR asset_name = '')
);
-- Serves "rows changed after version v" without reading the whole project.
CREATE INDEX IF NOT EXISTS resources_version ON resources (project_id, version);

-- An allocation record is filed under its customer project, the only tenant
-- that reads it. record_id is unique across all projects: that unique index
-- is the one global key a write touches besides the project's own range.
CREATE TABLE IF NOT EXISTS assignments (
    customer_project_id TEXT   NOT NULL,
    seq                 BIGINT NOT NULL CHECK (seq >= 1),
    record_id           TEXT   NOT NULL,
    version             BIGINT NOT NULL CHECK (version >= 1),
    sp_project_id       TEXT   NOT NULL,
    resource_spec_code  TEXT   NOT NULL,
    charging_mode       TEXT   NOT NULL CHECK (charging_mode IN ('PERIODIC', 'ONE_TIME', 'ON_DEMAND')),
    resource_num        BIGINT NOT NULL CHECK (resource_num BETWEEN 0 AND 2147483647000000), -- allot.MaxQuantity
    resource_used_num   BIGINT NOT NULL,
    allocate_time       BIGINT NOT NULL CHECK (allocate_time BETWEEN 0 AND 2147483647),
    expire_time         BIGINT NOT NULL CHECK (expire_time BETWEEN 0 AND 2147483647),
    CONSTRAINT assignments_pkey PRIMARY KEY (customer_project_id, seq),
    CONSTRAINT assignments_record_key UNIQUE (record_id),
    CONSTRAINT assignments_cust_fk FOREIGN KEY (customer_project_id) REFERENCES projects (id),
    CONSTRAINT assignments_sp_fk FOREIGN KEY (sp_project_id) REFERENCES projects (id),
    CHECK (resource_used_num BETWEEN 0 AND resource_num),
    CHECK (sp_project_id <> customer_project_id)
);
CREATE INDEX IF NOT EXISTS assignments_version ON assignments (customer_project_id, version);

-- Access keys and tokens are looked up before the project is known, so
-- their keys are the random key and the hash themselves, which spread
-- evenly. The secret is stored only sealed under a master key kept outside
-- the database; tokens only as their SHA-256 hash.
CREATE TABLE IF NOT EXISTS credentials (
    access_key        TEXT   NOT NULL,
    project_id        TEXT   NOT NULL,
    secret_ciphertext BYTEA  NOT NULL CHECK (length(secret_ciphertext) > 0),
    created_at        BIGINT NOT NULL,
    CONSTRAINT credentials_pkey PRIMARY KEY (access_key),
    CONSTRAINT credentials_project_fk FOREIGN KEY (project_id) REFERENCES projects (id)
);
CREATE INDEX IF NOT EXISTS credentials_project ON credentials (project_id);

CREATE TABLE IF NOT EXISTS tokens (
    hash       BYTEA  NOT NULL CHECK (length(hash) = 32),
    project_id TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT tokens_pkey PRIMARY KEY (hash),
    CONSTRAINT tokens_project_fk FOREIGN KEY (project_id) REFERENCES projects (id)
);
CREATE INDEX IF NOT EXISTS tokens_project ON tokens (project_id);
