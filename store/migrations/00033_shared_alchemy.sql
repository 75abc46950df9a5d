-- Twin of postgres/00033_shared_alchemy.sql. SQLite has one process and
-- keeps the alchemy queue in its memory, but the store's SQL is one for
-- both engines: the columns are here too, written and not indexed (the
-- claims, sweeps and polls that use them run on PostgreSQL only).

-- +goose Up
ALTER TABLE interrogation_forms ADD COLUMN score INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interrogation_forms ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interrogation_forms ADD COLUMN user_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE interrogations ADD COLUMN active_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE pending_submits ADD COLUMN polled_at INTEGER NOT NULL DEFAULT 0;

UPDATE interrogation_forms
SET score = (SELECT max(min(i.priority, 1000000000000), -1000000000000) * 1000 - 5 * (i.created_at / 1000000)
             FROM interrogations i WHERE i.id = interrogation_forms.interrogation_id),
    created_at = (SELECT i.created_at FROM interrogations i WHERE i.id = interrogation_forms.interrogation_id),
    user_id = (SELECT i.user_id FROM interrogations i WHERE i.id = interrogation_forms.interrogation_id);
UPDATE interrogations
SET active_at = max(created_at, coalesce((SELECT max(f.started_at) FROM interrogation_forms f
                                          WHERE f.interrogation_id = interrogations.id), 0));
UPDATE pending_submits SET polled_at = at;

-- +goose Down
ALTER TABLE pending_submits DROP COLUMN polled_at;
ALTER TABLE interrogations DROP COLUMN active_at;
ALTER TABLE interrogation_forms DROP COLUMN user_id;
ALTER TABLE interrogation_forms DROP COLUMN created_at;
ALTER TABLE interrogation_forms DROP COLUMN score;
