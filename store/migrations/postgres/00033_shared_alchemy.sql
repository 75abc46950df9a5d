-- Alchemy on the shared queue (several processes on one database), and
-- deferred R2 submits polled by whichever process sweeps.
--
-- A waiting form is claimed straight from interrogation_forms with SELECT
-- ... FOR UPDATE SKIP LOCKED of its interrogation, as image requests are
-- from queue_entries (00028): each form carries its interrogation's static
-- priority key (score: horde.PriorityScore of the requester's kudos and the
-- submit time, the key the in-memory alchemy queue of SQLite orders by),
-- its submit time and its requester, so that a pop walks one index in
-- order. interrogations.active_at is the expiry clock: creation, the last
-- pop, or a form waiting again. pending_submits.polled_at is when the
-- bucket was last asked for the job's object.

-- +goose Up
ALTER TABLE interrogation_forms ADD COLUMN score BIGINT NOT NULL DEFAULT 0;
ALTER TABLE interrogation_forms ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE interrogation_forms ADD COLUMN user_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE interrogations ADD COLUMN active_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pending_submits ADD COLUMN polled_at BIGINT NOT NULL DEFAULT 0;

UPDATE interrogation_forms f
SET score = LEAST(GREATEST(i.priority, -1000000000000), 1000000000000) * 1000 - 5 * (i.created_at / 1000000),
    created_at = i.created_at, user_id = i.user_id
FROM interrogations i WHERE i.id = f.interrogation_id;
UPDATE interrogations i
SET active_at = GREATEST(i.created_at, COALESCE((SELECT max(f.started_at) FROM interrogation_forms f
                                                  WHERE f.interrogation_id = i.id), 0));
UPDATE pending_submits SET polled_at = at;

-- A pop walks the waiting forms of its alchemist's forms in priority order
-- (then submit time, then each interrogation's forms in their order: the
-- order of SQLite's memory queue), and of its owner first.
CREATE INDEX interrogation_forms_pick ON interrogation_forms (name, score DESC, created_at, interrogation_id, idx) WHERE state = 'waiting';
CREATE INDEX interrogation_forms_user ON interrogation_forms (user_id, score DESC, created_at, interrogation_id, idx) WHERE state = 'waiting';
-- The sweep aborts the forms past their deadline; a member's open forms
-- count against their concurrency.
CREATE INDEX interrogation_forms_deadline ON interrogation_forms (deadline) WHERE state = 'processing';
CREATE INDEX interrogation_forms_open_user ON interrogation_forms (user_id) WHERE state IN ('waiting', 'processing');
-- The sweep expires the open interrogations nobody popped.
CREATE INDEX interrogations_active ON interrogations (active_at) WHERE finished_at = 0;

-- +goose Down
DROP INDEX interrogations_active;
DROP INDEX interrogation_forms_open_user;
DROP INDEX interrogation_forms_deadline;
DROP INDEX interrogation_forms_user;
DROP INDEX interrogation_forms_pick;
ALTER TABLE pending_submits DROP COLUMN polled_at;
ALTER TABLE interrogations DROP COLUMN active_at;
ALTER TABLE interrogation_forms DROP COLUMN user_id;
ALTER TABLE interrogation_forms DROP COLUMN created_at;
ALTER TABLE interrogation_forms DROP COLUMN score;
