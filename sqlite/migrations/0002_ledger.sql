-- Version 2: the ledger, idempotency records and admin keys, and the ledger
-- entries of the resources that existed before it.
--
-- Same conventions as version 1. The whole script runs in one transaction
-- with its schema_migrations row, so the backfill at the end cannot be
-- separated from the tables it fills.

-- removed marks a package that was cancelled or fully reclaimed: it leaves
-- every list; its row and its ledger entries stay.
ALTER TABLE resources ADD COLUMN removed INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1));

-- The service provider's package an allocation made through allot drew
-- from; NULL for imported records.
ALTER TABLE assignments ADD COLUMN sp_resource_id TEXT NULL;

-- The seq of the project's next ledger entry. A counter of its own, so that
-- resources and assignments keep seqs without gaps (next_seq - 1 stays the
-- number of rows a project has gained) however many entries the ledger gets.
ALTER TABLE projects ADD COLUMN next_ledger_seq INTEGER NOT NULL DEFAULT 1 CHECK (next_ledger_seq >= 1);

-- Consumption and allocation look for a project's packages of one type, in
-- seq order. (A purchase's order is found through its idempotency record.)
CREATE INDEX resources_type ON resources (project_id, resource_type, seq);

-- The ledger: one append-only row per change to a resource. A resource's
-- amount and usage are the sums of its rows' deltas, which may be negative.
-- resource_id has no foreign key: an entry whose resource is gone is what
-- the drift check is there to find.
CREATE TABLE ledger (
	project_id      TEXT    NOT NULL REFERENCES projects (id),
	seq             INTEGER NOT NULL CHECK (seq >= 1),
	resource_id     TEXT    NOT NULL,
	at              INTEGER NOT NULL,
	actor           TEXT    NOT NULL,
	op              TEXT    NOT NULL CHECK (op IN ('import', 'purchase', 'admin_grant', 'sp_grant_out',
		'sp_grant_in', 'reclaim', 'sp_return', 'cancel', 'freeze', 'unfreeze', 'bind_asset',
		'unbind_asset', 'consume', 'refund')),
	amount_delta    INTEGER NOT NULL,
	usage_delta     INTEGER NOT NULL,
	idempotency_key TEXT    NOT NULL, -- '' when unset, like reason and ref
	reason          TEXT    NOT NULL,
	ref             TEXT    NOT NULL,
	PRIMARY KEY (project_id, seq)
) STRICT, WITHOUT ROWID;

-- One resource's history, and one project's entries in a time window.
CREATE INDEX ledger_resource ON ledger (project_id, resource_id, seq);
CREATE INDEX ledger_at ON ledger (project_id, at);

-- The first answer to each request made with an idempotency key, per
-- project: a retry gets it back and changes nothing.
CREATE TABLE idempotency (
	project_id  TEXT    NOT NULL REFERENCES projects (id),
	key         TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL,
	result      BLOB    NOT NULL, -- JSON
	created_at  INTEGER NOT NULL,
	PRIMARY KEY (project_id, key)
) STRICT, WITHOUT ROWID;

-- Management credentials, found by the SHA-256 hash of their secret.
CREATE TABLE admin_keys (
	id            TEXT    NOT NULL PRIMARY KEY,
	hash          BLOB    NOT NULL UNIQUE CHECK (length(hash) > 0),
	role          TEXT    NOT NULL CHECK (role IN ('admin', 'sp')),
	sp_project_id TEXT    NULL REFERENCES projects (id), -- the SP of an sp key
	created_at    INTEGER NOT NULL,
	CHECK ((role = 'sp') = (sp_project_id IS NOT NULL))
) STRICT, WITHOUT ROWID;

-- The backfill: every resource that exists gets the import entry that
-- allot import writes today (amount and usage as they stand), so that the
-- ledger accounts for all of them and allot verify finds no drift in an
-- upgraded database. The ledger was created empty above, so an entry takes
-- its resource's seq, unique in the project, and the project's ledger
-- counter then starts after every seq the project has used.
INSERT INTO ledger (project_id, seq, resource_id, at, actor, op, amount_delta, usage_delta,
	idempotency_key, reason, ref)
SELECT project_id, seq, resource_id, unixepoch(), 'import', 'import', amount, usage,
	'', 'existed before the ledger', ''
FROM resources;

UPDATE projects SET next_ledger_seq = next_seq;
