-- The first schema of allot's ledger.
--
-- Conventions:
--   * Tables are STRICT, so a value of the wrong type is an error, not a
--     silent conversion.
--   * Times are INTEGER Unix seconds (UTC); quantities are INTEGER millionths
--     of a unit (allot.Quantity), never REAL.
--   * The CHECK constraints repeat the domain's enumerations and ranges as a
--     second line of defence: the Go code validates first. Adding an
--     enumeration value to the domain therefore needs a migration too (the
--     conformance suite stores every value, so a missing one fails tests).
--   * The tenant tables are WITHOUT ROWID and clustered by (project, seq):
--     every tenant read is "this project's rows in seq order", which then is
--     one contiguous range of the table, with no second lookup per row.

-- A project is a tenant. version grows by one with every committed write to
-- the project's resources or assignments; readers compare it to what they
-- cached. next_seq is the seq the project's next row gets; resources and
-- assignments share it, so seq is the project's insertion order.
CREATE TABLE projects (
	id            TEXT    NOT NULL PRIMARY KEY,
	name          TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
	region_id     TEXT    NOT NULL,
	sp_project_id TEXT    NULL REFERENCES projects (id), -- NULL: not a customer
	created_at    INTEGER NOT NULL,
	version       INTEGER NOT NULL CHECK (version >= 1),
	next_seq      INTEGER NOT NULL CHECK (next_seq >= 1),
	CHECK (sp_project_id <> id)
) STRICT, WITHOUT ROWID;

CREATE INDEX projects_sp ON projects (sp_project_id) WHERE sp_project_id IS NOT NULL;

-- resource_id is unique within a project, not globally: two tenants may hold
-- resources with the same id.
CREATE TABLE resources (
	project_id        TEXT    NOT NULL REFERENCES projects (id),
	seq               INTEGER NOT NULL CHECK (seq >= 1),
	resource_id       TEXT    NOT NULL,
	version           INTEGER NOT NULL CHECK (version >= 1),
	order_id          TEXT    NOT NULL, -- '' when unset
	asset_id          TEXT    NULL,     -- NULL: bound to no asset
	asset_name        TEXT    NOT NULL CHECK (length(asset_name) <= 255),
	expire_time       INTEGER NULL CHECK (expire_time >= 0), -- NULL: no expiry
	resource_type     TEXT    NOT NULL,
	business_type     TEXT    NOT NULL CHECK (business_type IN (
		'VOICE_CLONE', 'SYNTHETICS_SOUND', 'ASSET_MANAGER', 'MODELING_2D', 'LIVE_2D',
		'VIDEO_2D', 'CHAT_2D', 'BUSINESS_CARD_2D', 'PICTURE_2D', 'MODELING_3D',
		'VDS_3D', 'TTSA_3D', 'FLEXUS_2D')),
	sub_resource_type TEXT    NOT NULL CHECK (sub_resource_type IN (
		'', 'voice_clone_flexus', 'modeling_count_2d_model_flexus', 'video_time_flexus_2d_model')),
	is_sub_resource   INTEGER NOT NULL CHECK (is_sub_resource IN (0, 1)),
	charging_mode     TEXT    NOT NULL CHECK (charging_mode IN ('PERIODIC', 'ONE_TIME', 'ON_DEMAND')),
	resource_source   TEXT    NOT NULL CHECK (resource_source IN ('PURCHASED', 'SP_ALLOCATED', 'ADMIN_ALLOCATED')),
	amount            INTEGER NOT NULL CHECK (amount BETWEEN 0 AND 1000000000000), -- allot.MaxResourceAmount
	usage             INTEGER NOT NULL,
	status            INTEGER NOT NULL CHECK (status IN (0, 1)),
	unit              TEXT    NOT NULL CHECK (unit IN (
		'NUM', 'MIN', 'HOUR', 'CHANNEL', 'GB', 'MILLION_WORDS', 'TEN_THOUSAND_WORDS', 'TIME')),
	PRIMARY KEY (project_id, seq),
	UNIQUE (project_id, resource_id),
	CHECK (usage BETWEEN 0 AND amount),
	CHECK (asset_id IS NOT NULL OR asset_name = '')
) STRICT, WITHOUT ROWID;

-- Serves "rows changed after version v" without reading the whole project.
CREATE INDEX resources_version ON resources (project_id, version);

-- An allocation record belongs to its customer project, the only tenant that
-- reads it; record_id is unique across all projects.
CREATE TABLE assignments (
	customer_project_id TEXT    NOT NULL REFERENCES projects (id),
	seq                 INTEGER NOT NULL CHECK (seq >= 1),
	record_id           TEXT    NOT NULL UNIQUE,
	version             INTEGER NOT NULL CHECK (version >= 1),
	sp_project_id       TEXT    NOT NULL REFERENCES projects (id),
	resource_spec_code  TEXT    NOT NULL,
	charging_mode       TEXT    NOT NULL CHECK (charging_mode IN ('PERIODIC', 'ONE_TIME', 'ON_DEMAND')),
	resource_num        INTEGER NOT NULL CHECK (resource_num BETWEEN 0 AND 2147483647000000), -- allot.MaxQuantity
	resource_used_num   INTEGER NOT NULL,
	allocate_time       INTEGER NOT NULL CHECK (allocate_time BETWEEN 0 AND 2147483647),
	expire_time         INTEGER NOT NULL CHECK (expire_time BETWEEN 0 AND 2147483647),
	PRIMARY KEY (customer_project_id, seq),
	CHECK (resource_used_num BETWEEN 0 AND resource_num),
	CHECK (sp_project_id <> customer_project_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX assignments_version ON assignments (customer_project_id, version);

-- The secret is stored only sealed under a master key kept outside the database.
CREATE TABLE credentials (
	access_key        TEXT    NOT NULL PRIMARY KEY,
	project_id        TEXT    NOT NULL REFERENCES projects (id),
	secret_ciphertext BLOB    NOT NULL CHECK (length(secret_ciphertext) > 0),
	created_at        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX credentials_project ON credentials (project_id);

-- Tokens are kept only as their SHA-256 hash; expired ones stay until pruned
-- and the caller checks expires_at.
CREATE TABLE tokens (
	hash       BLOB    NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
	project_id TEXT    NOT NULL REFERENCES projects (id),
	expires_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX tokens_project ON tokens (project_id);
