-- allot schema, version 2: the ledger, idempotency records and admin keys.
--
-- Same rules as version 1: idempotent statements, tenant-first keys, BIGINT
-- Unix seconds and millionths, explicit constraint names, no sequences.
-- Only DDL here: CockroachDB does not let a transaction use a column it has
-- just added, so the data that the new columns need comes in version 3.

-- removed marks a package that was cancelled or fully reclaimed: it leaves
-- every list, its rows and ledger entries stay.
ALTER TABLE resources ADD COLUMN IF NOT EXISTS removed BOOLEAN NOT NULL DEFAULT false;
-- The service provider's package an allocation made through allot drew
-- from; NULL for imported records.
ALTER TABLE assignments ADD COLUMN IF NOT EXISTS sp_resource_id TEXT;
-- The seq of the project's next ledger entry. A counter of its own, next to
-- next_seq and under the same row lock, so resources and assignments keep
-- seqs without gaps (next_seq - 1 stays the number of rows a project has
-- gained) however many entries the ledger gets.
ALTER TABLE projects ADD COLUMN IF NOT EXISTS next_ledger_seq BIGINT NOT NULL DEFAULT 1;

-- Consumption and allocation look for a project's packages of one type.
CREATE INDEX IF NOT EXISTS resources_type ON resources (project_id, resource_type, seq);

-- The ledger: one append-only row per change to a resource. A resource's
-- amount and usage are the sums of its rows' deltas. Keyed like every
-- tenant table, (project, seq), with seq from the project's
-- next_ledger_seq: appends of different tenants never meet.
CREATE TABLE IF NOT EXISTS ledger (
    project_id      TEXT   NOT NULL,
    seq             BIGINT NOT NULL CHECK (seq >= 1),
    resource_id     TEXT   NOT NULL,
    at              BIGINT NOT NULL,
    actor           TEXT   NOT NULL,
    op              TEXT   NOT NULL,
    amount_delta    BIGINT NOT NULL, -- may be negative
    usage_delta     BIGINT NOT NULL, -- may be negative
    idempotency_key TEXT   NOT NULL, -- '' when unset, like reason and ref
    reason          TEXT   NOT NULL,
    ref             TEXT   NOT NULL,
    CONSTRAINT ledger_pkey PRIMARY KEY (project_id, seq),
    CONSTRAINT ledger_project_fk FOREIGN KEY (project_id) REFERENCES projects (id),
    -- Named so that a later version can replace it when allot gains an op.
    CONSTRAINT ledger_op_check CHECK (op IN ('import', 'purchase', 'admin_grant', 'sp_grant_out',
        'sp_grant_in', 'reclaim', 'sp_return', 'cancel', 'freeze', 'unfreeze', 'bind_asset',
        'unbind_asset', 'consume', 'refund'))
);
-- One resource's history, and one project's entries in a time window.
CREATE INDEX IF NOT EXISTS ledger_resource ON ledger (project_id, resource_id, seq);
CREATE INDEX IF NOT EXISTS ledger_at ON ledger (project_id, at);

-- The first answer to each request made with an idempotency key, per
-- project: a retry gets it back and changes nothing. Written under the
-- project's row lock, like everything of the project.
CREATE TABLE IF NOT EXISTS idempotency (
    project_id  TEXT   NOT NULL,
    key         TEXT   NOT NULL,
    fingerprint TEXT   NOT NULL,
    result      BYTEA  NOT NULL, -- JSON
    created_at  BIGINT NOT NULL,
    CONSTRAINT idempotency_pkey PRIMARY KEY (project_id, key),
    CONSTRAINT idempotency_project_fk FOREIGN KEY (project_id) REFERENCES projects (id)
);

-- Management credentials, found by the SHA-256 hash of the secret, which
-- spreads evenly like the tokens' hashes.
CREATE TABLE IF NOT EXISTS admin_keys (
    id            TEXT   NOT NULL,
    hash          BYTEA  NOT NULL CHECK (length(hash) > 0),
    role          TEXT   NOT NULL CHECK (role IN ('admin', 'sp')),
    sp_project_id TEXT,  -- the service provider of an sp key; NULL for admin
    created_at    BIGINT NOT NULL,
    CONSTRAINT admin_keys_pkey PRIMARY KEY (id),
    CONSTRAINT admin_keys_hash_key UNIQUE (hash),
    CONSTRAINT admin_keys_sp_fk FOREIGN KEY (sp_project_id) REFERENCES projects (id),
    CHECK ((role = 'sp') = (sp_project_id IS NOT NULL))
);
