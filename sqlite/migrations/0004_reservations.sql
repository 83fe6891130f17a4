-- Version 4: reservations (two-phase consumption), burn-down priorities and
-- the user a usage is for.
--
-- held is what open reservations hold of a package; usage and holds
-- together never pass the amount. priority orders a project's packages of
-- one type for consumption (higher first).
ALTER TABLE resources ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0 AND usage + held <= amount);
ALTER TABLE resources ADD COLUMN priority INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100);

-- The ledger gains the reservation ops, the held delta and the user
-- attribution. SQLite cannot change a CHECK constraint in place, so the
-- table is rebuilt; the script runs in one transaction.
CREATE TABLE ledger_v4 (
	project_id      TEXT    NOT NULL REFERENCES projects (id),
	seq             INTEGER NOT NULL CHECK (seq >= 1),
	resource_id     TEXT    NOT NULL,
	at              INTEGER NOT NULL,
	actor           TEXT    NOT NULL,
	op              TEXT    NOT NULL CHECK (op IN ('import', 'purchase', 'admin_grant', 'sp_grant_out',
		'sp_grant_in', 'reclaim', 'sp_return', 'cancel', 'freeze', 'unfreeze', 'bind_asset',
		'unbind_asset', 'consume', 'refund', 'reserve', 'commit', 'release', 'hold_expired')),
	amount_delta    INTEGER NOT NULL,
	usage_delta     INTEGER NOT NULL,
	idempotency_key TEXT    NOT NULL, -- '' when unset, like reason, ref and the user ids
	reason          TEXT    NOT NULL,
	ref             TEXT    NOT NULL,
	held_delta      INTEGER NOT NULL DEFAULT 0,
	user_id         TEXT    NOT NULL DEFAULT '',
	app_user_id     TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (project_id, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO ledger_v4 (project_id, seq, resource_id, at, actor, op, amount_delta, usage_delta, idempotency_key, reason, ref)
SELECT project_id, seq, resource_id, at, actor, op, amount_delta, usage_delta, idempotency_key, reason, ref FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_v4 RENAME TO ledger;
CREATE INDEX ledger_resource ON ledger (project_id, resource_id, seq);
CREATE INDEX ledger_at ON ledger (project_id, at);

-- A reservation and its holds. Its id is unique across projects: commit and
-- release name it alone.
CREATE TABLE reservations (
	reservation_id  TEXT    NOT NULL PRIMARY KEY,
	project_id      TEXT    NOT NULL REFERENCES projects (id),
	state           TEXT    NOT NULL CHECK (state IN ('open', 'committed', 'released', 'expired')),
	amount          INTEGER NOT NULL CHECK (amount > 0),
	committed       INTEGER NOT NULL CHECK (committed BETWEEN 0 AND amount),
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	settled_at      INTEGER NULL, -- NULL while open
	actor           TEXT    NOT NULL,
	idempotency_key TEXT    NOT NULL,
	user_id         TEXT    NOT NULL,
	app_user_id     TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
-- A project's list, newest first, and the sweeper's look for overdue holds.
CREATE INDEX reservations_project ON reservations (project_id, created_at, reservation_id);
CREATE INDEX reservations_due ON reservations (expires_at) WHERE state = 'open';

CREATE TABLE reservation_holds (
	reservation_id TEXT    NOT NULL REFERENCES reservations (reservation_id),
	idx            INTEGER NOT NULL CHECK (idx >= 0), -- burn-down order
	project_id     TEXT    NOT NULL,
	resource_id    TEXT    NOT NULL,
	amount         INTEGER NOT NULL CHECK (amount > 0),
	committed      INTEGER NOT NULL CHECK (committed BETWEEN 0 AND amount),
	PRIMARY KEY (reservation_id, idx)
) STRICT, WITHOUT ROWID;
