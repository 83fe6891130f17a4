-- Version 12: the tables every write appends to (resources, ledger,
-- idempotency, reservations, reservation_holds) drop their foreign keys.
--
-- Why: PostgreSQL checks a foreign key with a trigger per row that runs a
-- query (SELECT ... FOR KEY SHARE on the parent row). Measured on the
-- benchmark import, these checks were 44% of the server's work, more than
-- every index of the COPY together; each consume paid two (its ledger entry
-- and its key), each reservation step four.
--
-- What they guarded is held by the write path itself: every transaction
-- that writes these rows first locks its project by updating the project's
-- row (UPDATE projects ... RETURNING, see postgres/tx.go), which fails for
-- a project that does not exist; an import finds each project its rows name
-- the same way; a hold is written in the transaction of its reservation;
-- and projects are never deleted. The shared store suite's MissingProject
-- holds it on both stores: every write naming a missing project is refused
-- and leaves nothing a later project of that id would inherit.
ALTER TABLE resources DROP CONSTRAINT IF EXISTS resources_project_fk;
ALTER TABLE ledger DROP CONSTRAINT IF EXISTS ledger_project_fk;
ALTER TABLE idempotency DROP CONSTRAINT IF EXISTS idempotency_project_fk;
ALTER TABLE reservations DROP CONSTRAINT IF EXISTS reservations_project_fk;
ALTER TABLE reservation_holds DROP CONSTRAINT IF EXISTS reservation_holds_fk;
