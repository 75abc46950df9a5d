-- +goose Up
-- What /stats/img/* and /stats/text/* report: one row per stored result
-- (kind, model, and its units: pixelsteps = width*height*steps for an image,
-- the requested max_length in tokens for a text, as the AI Horde counts
-- them), kept for 31 days for the minute/hour/day/month windows, and
-- running totals per model that outlive both these rows and the retention
-- purge of old requests. A trigger on generations fills both in the
-- transaction that stores the result, so that no code path can forget it.
CREATE TABLE generation_stats (
    id    INTEGER PRIMARY KEY,
    kind  TEXT    NOT NULL,
    model TEXT    NOT NULL,
    units INTEGER NOT NULL,
    at    INTEGER NOT NULL -- unix nanoseconds
);
CREATE INDEX generation_stats_at ON generation_stats (kind, at);

CREATE TABLE generation_totals (
    kind  TEXT    NOT NULL,
    model TEXT    NOT NULL,
    count INTEGER NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (kind, model)
) WITHOUT ROWID;

INSERT INTO generation_stats (kind, model, units, at)
SELECT r.kind, g.model,
       CASE r.kind
           WHEN 'image' THEN coalesce(json_extract(r.params, '$.image.width'), 0)
                           * coalesce(json_extract(r.params, '$.image.height'), 0)
                           * coalesce(json_extract(r.params, '$.image.steps'), 0)
           ELSE coalesce(json_extract(r.params, '$.text.max_length'), 0)
       END,
       g.created_at
FROM generations g JOIN requests r ON r.id = g.request_id;

INSERT INTO generation_totals (kind, model, count, units)
SELECT kind, model, count(*), sum(units) FROM generation_stats GROUP BY kind, model;

DELETE FROM generation_stats
WHERE at < (SELECT coalesce(max(at), 0) FROM generation_stats) - 2678400000000000;

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

-- +goose Down
DROP TRIGGER generations_stats;
DROP TABLE generation_totals;
DROP TABLE generation_stats;
