-- Tenant packs: every resource of one big project at one project version,
-- in one blob, for the first read of the tenant (see internal/tenantpack).
-- A pack is derived data: it may lag behind the resources table, and a read
-- applies the rows changed after its version. A later migration that
-- changes resource rows without raising their versions must delete the
-- packs (each pack also names the schema version it was written under, and
-- a read ignores a pack of another one). The blob is stored out of line
-- uncompressed: it is read whole, and decompressing it would cost more
-- than the disk it saves.
CREATE TABLE IF NOT EXISTS tenant_packs (
    project_id TEXT   NOT NULL,
    version    BIGINT NOT NULL CHECK (version >= 1),
    data       BYTEA  NOT NULL,
    CONSTRAINT tenant_packs_pkey PRIMARY KEY (project_id),
    CONSTRAINT tenant_packs_project_fk FOREIGN KEY (project_id) REFERENCES projects (id)
);
ALTER TABLE tenant_packs ALTER COLUMN data SET STORAGE EXTERNAL;
