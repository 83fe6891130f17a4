-- Expiry and revocation of credentials.
--
-- A revoked credential keeps its row, marked by revoked_at, rather than
-- being deleted: a list shows who held a key and when it was revoked, and
-- an admin key's name, which ledger entries record as their actor, can then
-- never be given to a second key. Lookups skip revoked rows.
ALTER TABLE credentials ADD COLUMN expires_at INTEGER NULL; -- NULL: never
ALTER TABLE credentials ADD COLUMN revoked_at INTEGER NULL; -- NULL: in force
ALTER TABLE tokens ADD COLUMN revoked_at INTEGER NULL;
ALTER TABLE admin_keys ADD COLUMN expires_at INTEGER NULL;
ALTER TABLE admin_keys ADD COLUMN revoked_at INTEGER NULL;
