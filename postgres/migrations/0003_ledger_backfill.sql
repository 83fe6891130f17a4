-- allot schema, version 3: the ledger entries of resources that existed
-- before the ledger.
--
-- Every resource gets the import entry that allot import writes today
-- (amount and usage as they stand, actor and op 'import'), so that the
-- ledger accounts for all of them and allot verify finds no drift in a
-- database that was upgraded. The ledger is empty for these projects when
-- this runs (the nodes that write it start only after every migration), so
-- an entry takes its resource's seq, which is unique in the project; the
-- project's ledger counter then starts after every seq it has used.
-- NOT EXISTS and the WHERE of the update make a rerun change nothing.

INSERT INTO ledger (project_id, seq, resource_id, at, actor, op, amount_delta, usage_delta,
    idempotency_key, reason, ref)
SELECT r.project_id, r.seq, r.resource_id, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT), 'import', 'import',
    r.amount, r.usage, '', 'existed before the ledger', ''
FROM resources r
WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.project_id = r.project_id AND l.resource_id = r.resource_id);

UPDATE projects SET next_ledger_seq = next_seq WHERE next_ledger_seq < next_seq;
