-- One pass over the rows to validate (the batch's partition of explore.raw_data, or the
-- quarantined rows a retry re-validates): extract each declared column from its source field
-- as text, trimmed and '' as NULL unless the column says otherwise (level 1), cast it with the
-- pipeline.try_* safe casts (level 2), evaluate every rule and collect the names of the failed
-- ones in _failed_rules (level 3, with references joined to their chart tables), and flag the
-- rows that failed none as _valid (level 4: a plain boolean column, so the planner knows how
-- many rows the later steps read).
-- OFFSET keeps each level a separate scan so no expression is computed twice. It is written
-- OFFSET '0' on purpose: the untyped literal becomes a constant bigint 0, which the planner
-- knows needs no Limit, so every level runs inside the parallel workers (Gather on top). A plain
-- OFFSET 0 is an int4 cast to bigint, which the parallel check takes for an unknown offset: the
-- casts and rules then ran in the leader process alone.
{create} AS
SELECT s.*, cardinality(s._failed_rules) = 0 AS _valid
  FROM (
        SELECT t._raw_id,
               t._record_key,
               t._payload_checksum,
               t._batch_id,
               t._interval_start,
               {typed_columns},
               array_remove(ARRAY[{rules}]::text[], NULL) AS _failed_rules
          FROM (
                SELECT v.*, {casts}
                  FROM (
                        SELECT r.raw_id AS _raw_id,
                               r.record_key AS _record_key,
                               r.payload_checksum AS _payload_checksum,
                               r.batch_id AS _batch_id,
                               r.interval_start AS _interval_start,
                               {texts}
                          FROM {rows}
                        OFFSET '0'
                       ) AS v
                OFFSET '0'
               ) AS t
          {reference_joins}
        OFFSET '0'
       ) AS s
