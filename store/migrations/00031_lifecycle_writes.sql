-- Fewer writes a job lifecycle (pop + submit) costs the one writer.
--
-- The generation stats (00016) are written by FinishJob itself, in the
-- transaction that stores the result, with the units computed in Go
-- (horde.GenerationUnits: width*height*steps for an image, max_length for
-- a text, as the trigger computed them from the request's params); the
-- 31-day prune of generation_stats runs in the retention sweep
-- (store/retention.go). The trigger cost every stored result two reads of
-- its request, six JSON extractions and a DELETE.
--
-- requests_finished (00006) names the finished states as "not waiting or
-- processing" (the same rows: a request has one of five states). SQLite
-- evaluates a list of three or more constants through a temporary b-tree
-- built for each statement, and every change of a request's state checks
-- the index's condition on the old and the new row: two temporary b-trees
-- for each pop and each finish. Queries that want this index must say
-- state NOT IN ('waiting', 'processing') too (the plan test checks them).

-- +goose Up
DROP TRIGGER generations_stats;
DROP INDEX requests_finished;
CREATE INDEX requests_finished ON requests (finished_at) WHERE state NOT IN ('waiting', 'processing');

-- +goose Down
DROP INDEX requests_finished;
CREATE INDEX requests_finished ON requests (finished_at) WHERE state IN ('done', 'faulted', 'cancelled');
-- +goose StatementBegin
CREATE TRIGGER generations_stats AFTER INSERT ON generations
BEGIN
    INSERT INTO generation_stats (kind, model, units, at)
    SELECT r.kind, NEW.model,
           CASE r.kind
               WHEN 'image' THEN coalesce(json_extract(r.params, '$.image.width'), 0)
                               * coalesce(json_extract(r.params, '$.image.height'), 0)
                               * coalesce(json_extract(r.params, '$.image.steps'), 0)
               ELSE coalesce(json_extract(r.params, '$.text.max_length'), 0)
           END,
           NEW.created_at
    FROM requests r WHERE r.id = NEW.request_id;
    INSERT INTO generation_totals (kind, model, count, units)
    SELECT r.kind, NEW.model, 1,
           CASE r.kind
               WHEN 'image' THEN coalesce(json_extract(r.params, '$.image.width'), 0)
                               * coalesce(json_extract(r.params, '$.image.height'), 0)
                               * coalesce(json_extract(r.params, '$.image.steps'), 0)
               ELSE coalesce(json_extract(r.params, '$.text.max_length'), 0)
           END
    FROM requests r WHERE r.id = NEW.request_id
    ON CONFLICT (kind, model) DO UPDATE SET count = count + 1, units = units + excluded.units;
    -- 31 days of rows are enough for the longest window (a month).
    DELETE FROM generation_stats
    WHERE kind IN ('image', 'text') AND at < NEW.created_at - 2678400000000000;
END;
-- +goose StatementEnd
