-- Version 12: the enum CHECKs of resources, ledger and reservations are
-- written as CASE expressions instead of IN lists; they accept and refuse
-- exactly the same values.
--
-- Why: SQLite evaluates `col IN ('a', 'b', 'c', ...)` with three or more
-- constants by building an ephemeral index of the list and probing it, for
-- every row an INSERT writes (and every UPDATE that changes the column). A
-- CASE is a few comparisons. Measured on the benchmark import (1,110,001
-- lines, six enum columns a resource and one a ledger entry), the IN lists
-- took 11.5 of its 29.8 s; on the consume path, the ledger entry's op check
-- was 7-10% of the server's CPU. ELSE 0 matters: a CASE that matches no
-- branch is NULL, which a CHECK would let through.
--
-- SQLite cannot change a CHECK in place, so the tables are rebuilt with the
-- same columns in the same order, and their indexes recreated; the script
-- runs in one transaction. reservation_holds references reservations, so it
-- is set aside and put back around the rebuild of reservations.

CREATE TABLE resources_v12 (
	project_id        TEXT    NOT NULL REFERENCES projects (id),
	seq               INTEGER NOT NULL CHECK (seq >= 1),
	resource_id       TEXT    NOT NULL,
	version           INTEGER NOT NULL CHECK (version >= 1),
	order_id          TEXT    NOT NULL, -- '' when unset
	asset_id          TEXT    NULL,     -- NULL: bound to no asset
	asset_name        TEXT    NOT NULL CHECK (length(asset_name) <= 255),
	expire_time       INTEGER NULL CHECK (expire_time >= 0), -- NULL: no expiry
	resource_type     TEXT    NOT NULL,
	business_type     TEXT    NOT NULL CHECK (CASE business_type
		WHEN 'VOICE_CLONE' THEN 1 WHEN 'SYNTHETICS_SOUND' THEN 1 WHEN 'ASSET_MANAGER' THEN 1
		WHEN 'MODELING_2D' THEN 1 WHEN 'LIVE_2D' THEN 1 WHEN 'VIDEO_2D' THEN 1 WHEN 'CHAT_2D' THEN 1
		WHEN 'BUSINESS_CARD_2D' THEN 1 WHEN 'PICTURE_2D' THEN 1 WHEN 'MODELING_3D' THEN 1
		WHEN 'VDS_3D' THEN 1 WHEN 'TTSA_3D' THEN 1 WHEN 'FLEXUS_2D' THEN 1 ELSE 0 END),
	sub_resource_type TEXT    NOT NULL CHECK (CASE sub_resource_type
		WHEN '' THEN 1 WHEN 'voice_clone_flexus' THEN 1 WHEN 'modeling_count_2d_model_flexus' THEN 1
		WHEN 'video_time_flexus_2d_model' THEN 1 ELSE 0 END),
	is_sub_resource   INTEGER NOT NULL CHECK (is_sub_resource IN (0, 1)),
	charging_mode     TEXT    NOT NULL CHECK (CASE charging_mode
		WHEN 'PERIODIC' THEN 1 WHEN 'ONE_TIME' THEN 1 WHEN 'ON_DEMAND' THEN 1 ELSE 0 END),
	resource_source   TEXT    NOT NULL CHECK (CASE resource_source
		WHEN 'PURCHASED' THEN 1 WHEN 'SP_ALLOCATED' THEN 1 WHEN 'ADMIN_ALLOCATED' THEN 1 ELSE 0 END),
	amount            INTEGER NOT NULL CHECK (amount BETWEEN 0 AND 1000000000000), -- allot.MaxResourceAmount
	usage             INTEGER NOT NULL,
	status            INTEGER NOT NULL CHECK (status IN (0, 1)),
	unit              TEXT    NOT NULL CHECK (CASE unit
		WHEN 'NUM' THEN 1 WHEN 'MIN' THEN 1 WHEN 'HOUR' THEN 1 WHEN 'CHANNEL' THEN 1 WHEN 'GB' THEN 1
		WHEN 'MILLION_WORDS' THEN 1 WHEN 'TEN_THOUSAND_WORDS' THEN 1 WHEN 'TIME' THEN 1 ELSE 0 END),
	removed           INTEGER NOT NULL DEFAULT 0 CHECK (removed IN (0, 1)),
	held              INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0 AND usage + held <= amount),
	priority          INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
	PRIMARY KEY (project_id, seq),
	UNIQUE (project_id, resource_id),
	CHECK (usage BETWEEN 0 AND amount),
	CHECK (asset_id IS NOT NULL OR asset_name = '')
) STRICT, WITHOUT ROWID;
INSERT INTO resources_v12 SELECT * FROM resources;
DROP TABLE resources;
ALTER TABLE resources_v12 RENAME TO resources;
CREATE INDEX resources_version ON resources (project_id, version);
CREATE INDEX resources_type ON resources (project_id, resource_type, seq);
CREATE INDEX resources_order ON resources (project_id, order_id) WHERE order_id <> '';

CREATE TABLE ledger_v12 (
	project_id      TEXT    NOT NULL REFERENCES projects (id),
	seq             INTEGER NOT NULL CHECK (seq >= 1),
	resource_id     TEXT    NOT NULL,
	at              INTEGER NOT NULL,
	actor           TEXT    NOT NULL,
	op              TEXT    NOT NULL CHECK (CASE op
		WHEN 'import' THEN 1 WHEN 'purchase' THEN 1 WHEN 'admin_grant' THEN 1 WHEN 'sp_grant_out' THEN 1
		WHEN 'sp_grant_in' THEN 1 WHEN 'reclaim' THEN 1 WHEN 'sp_return' THEN 1 WHEN 'cancel' THEN 1
		WHEN 'freeze' THEN 1 WHEN 'unfreeze' THEN 1 WHEN 'bind_asset' THEN 1 WHEN 'unbind_asset' THEN 1
		WHEN 'consume' THEN 1 WHEN 'refund' THEN 1 WHEN 'reserve' THEN 1 WHEN 'commit' THEN 1
		WHEN 'release' THEN 1 WHEN 'hold_expired' THEN 1 ELSE 0 END),
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
INSERT INTO ledger_v12 SELECT * FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_v12 RENAME TO ledger;
CREATE INDEX ledger_resource ON ledger (project_id, resource_id, seq);
CREATE INDEX ledger_at ON ledger (project_id, at);
CREATE INDEX ledger_user ON ledger (project_id, user_id) WHERE user_id <> '';

CREATE TABLE reservation_holds_v12 AS SELECT * FROM reservation_holds;
DROP TABLE reservation_holds;
CREATE TABLE reservations_v12 (
	reservation_id  TEXT    NOT NULL PRIMARY KEY,
	project_id      TEXT    NOT NULL REFERENCES projects (id),
	state           TEXT    NOT NULL CHECK (CASE state
		WHEN 'open' THEN 1 WHEN 'committed' THEN 1 WHEN 'released' THEN 1 WHEN 'expired' THEN 1 ELSE 0 END),
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
INSERT INTO reservations_v12 SELECT * FROM reservations;
DROP TABLE reservations;
ALTER TABLE reservations_v12 RENAME TO reservations;
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
INSERT INTO reservation_holds SELECT * FROM reservation_holds_v12;
DROP TABLE reservation_holds_v12;
