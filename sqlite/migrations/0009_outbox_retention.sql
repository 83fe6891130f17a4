-- Outbox retention and the console's list of failed deliveries.
--
-- deliveries.done_at is when a delivery was delivered or failed, in Unix
-- milliseconds (0 while it has never finished): finished deliveries are
-- pruned by it, and the failed ones are listed by it, newest first.
-- events.keep_until (Unix seconds) is the earliest time an event's id may
-- be forgotten: an expiry event's id is derived from its package, and the
-- outbox's copy is what keeps it from being written twice.
ALTER TABLE deliveries ADD COLUMN done_at INTEGER NOT NULL DEFAULT 0;
UPDATE deliveries SET done_at = COALESCE(delivered_at,
		(SELECT MAX(a.at) FROM delivery_attempts a WHERE a.delivery_id = deliveries.id),
		created_at * 1000)
	WHERE state <> 'pending';
CREATE INDEX deliveries_finished ON deliveries (done_at) WHERE state <> 'pending';
CREATE INDEX deliveries_failed ON deliveries (done_at, id) WHERE state = 'failed';
CREATE INDEX deliveries_of_event ON deliveries (event_id);

ALTER TABLE events ADD COLUMN keep_until INTEGER NOT NULL DEFAULT 0;
-- Events written before this column: an expiry event is kept for the
-- longest time its id can be derived again (a warning at most 366 days
-- before the expiry, then 7 days after it).
UPDATE events SET keep_until = at + 373 * 86400
	WHERE type IN ('resource.expiring', 'resource.expired');
CREATE INDEX events_at ON events (at);
