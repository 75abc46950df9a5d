-- Twin of ../00031_lifecycle_writes.sql: FinishJob writes the generation
-- stats itself (units computed in Go, as generation_units computes them),
-- the retention sweep prunes rows past 31 days, and the trigger and its
-- function go (generation_units stays: 00016's backfill and this
-- migration's Down use it). requests_finished says its condition as the
-- queries of both engines now do (state NOT IN ('waiting', 'processing')),
-- so that PostgreSQL's planner still matches it to them.

-- +goose Up
DROP TRIGGER generations_stats ON generations;
DROP FUNCTION generations_stats();
DROP INDEX requests_finished;
CREATE INDEX requests_finished ON requests (finished_at) WHERE state NOT IN ('waiting', 'processing');

-- +goose Down
DROP INDEX requests_finished;
CREATE INDEX requests_finished ON requests (finished_at) WHERE state IN ('done', 'faulted', 'cancelled');
-- +goose StatementBegin
CREATE FUNCTION generations_stats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO generation_stats (kind, model, units, at)
    SELECT r.kind, NEW.model, generation_units(r.kind, r.params), NEW.created_at
    FROM requests r WHERE r.id = NEW.request_id;
    INSERT INTO generation_totals AS t (kind, model, count, units)
    SELECT r.kind, NEW.model, 1, generation_units(r.kind, r.params)
    FROM requests r WHERE r.id = NEW.request_id
    ON CONFLICT (kind, model) DO UPDATE SET count = t.count + 1, units = t.units + excluded.units;
    -- 31 days of rows are enough for the longest window (a month).
    DELETE FROM generation_stats
    WHERE kind IN ('image', 'text') AND at < NEW.created_at - 2678400000000000;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER generations_stats AFTER INSERT ON generations
FOR EACH ROW EXECUTE FUNCTION generations_stats();
