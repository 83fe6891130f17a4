-- Version 5: reservations (two-phase consumption), burn-down priorities and
-- the user a usage is for.
--
-- held is what open reservations hold of a package; usage and holds
-- together never pass the amount. priority orders a project's packages of
-- one type for consumption (higher first).
ALTER TABLE resources ADD COLUMN IF NOT EXISTS held BIGINT NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN IF NOT EXISTS priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE resources DROP CONSTRAINT IF EXISTS resources_held_check;
ALTER TABLE resources ADD CONSTRAINT resources_held_check CHECK (held >= 0 AND usage + held <= amount);
ALTER TABLE resources DROP CONSTRAINT IF EXISTS resources_priority_check;
ALTER TABLE resources ADD CONSTRAINT resources_priority_check CHECK (priority BETWEEN 0 AND 100);

ALTER TABLE ledger ADD COLUMN IF NOT EXISTS held_delta BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger ADD COLUMN IF NOT EXISTS app_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE ledger DROP CONSTRAINT IF EXISTS ledger_op_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_op_check CHECK (op IN ('import', 'purchase', 'admin_grant', 'sp_grant_out',
    'sp_grant_in', 'reclaim', 'sp_return', 'cancel', 'freeze', 'unfreeze', 'bind_asset',
    'unbind_asset', 'consume', 'refund', 'reserve', 'commit', 'release', 'hold_expired'));

-- A reservation and its holds. Its id is unique across projects: commit and
-- release name it alone. Written under the project's row lock.
CREATE TABLE IF NOT EXISTS reservations (
    reservation_id  TEXT   NOT NULL,
    project_id      TEXT   NOT NULL,
    state           TEXT   NOT NULL CHECK (state IN ('open', 'committed', 'released', 'expired')),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    committed       BIGINT NOT NULL CHECK (committed BETWEEN 0 AND amount),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    settled_at      BIGINT, -- NULL while open
    actor           TEXT   NOT NULL,
    idempotency_key TEXT   NOT NULL,
    user_id         TEXT   NOT NULL,
    app_user_id     TEXT   NOT NULL,
    CONSTRAINT reservations_pkey PRIMARY KEY (reservation_id),
    CONSTRAINT reservations_project_fk FOREIGN KEY (project_id) REFERENCES projects (id)
);
-- A project's list, newest first, and the sweeper's look for overdue holds.
CREATE INDEX IF NOT EXISTS reservations_project ON reservations (project_id, created_at, reservation_id);
CREATE INDEX IF NOT EXISTS reservations_due ON reservations (expires_at) WHERE state = 'open';

CREATE TABLE IF NOT EXISTS reservation_holds (
    reservation_id TEXT    NOT NULL,
    idx            INTEGER NOT NULL CHECK (idx >= 0), -- burn-down order
    project_id     TEXT    NOT NULL,
    resource_id    TEXT    NOT NULL,
    amount         BIGINT  NOT NULL CHECK (amount > 0),
    committed      BIGINT  NOT NULL CHECK (committed BETWEEN 0 AND amount),
    CONSTRAINT reservation_holds_pkey PRIMARY KEY (reservation_id, idx),
    CONSTRAINT reservation_holds_fk FOREIGN KEY (reservation_id) REFERENCES reservations (reservation_id)
);
