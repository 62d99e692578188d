-- Settings of the promotion transaction (SET LOCAL semantics: they end with it):
-- * work_mem: the hash of the batch's keys (duplicate check, anti-join) stays in memory;
-- * temp_buffers: the temporary tables of a retry stay in memory;
-- * max_parallel_workers_per_gather: the staging query (and the scans of the unlogged staging
--   table) run in parallel workers; the server's max_parallel_workers still caps the total;
-- * TimeZone: timestamps without an offset read as UTC;
-- * jit off: compiling the wide staging expression costs ~3 s per run, more than JIT saves;
-- * synchronous_commit off: the commit does not wait for the WAL flush. Safe here: a server
--   crash can lose at most this last commit, never corrupt anything, and promotion is
--   idempotent per batch, so the task's re-run restores exactly what was lost.
SELECT set_config('work_mem', %(work_mem)s, true),
       set_config('temp_buffers', %(temp_buffers)s, true),
       set_config('max_parallel_workers_per_gather', %(parallel_workers)s, true),
       set_config('TimeZone', 'UTC', true),
       set_config('jit', 'off', true),
       set_config('synchronous_commit', 'off', true)
