-- Tenant packs: every resource of one big project at one project version,
-- in one blob, for the first read of the tenant (see internal/tenantpack). A pack
-- is derived data: it may lag behind the resources table, and a read
-- applies the rows changed after its version. A later migration that
-- changes resource rows without raising their versions must delete the
-- packs (each pack also names the schema version it was written under, and
-- a read ignores a pack of another one).
CREATE TABLE tenant_packs (
	project_id TEXT    NOT NULL UNIQUE REFERENCES projects (id),
	version    INTEGER NOT NULL CHECK (version >= 1),
	data       BLOB    NOT NULL
) STRICT;
