-- Settings of the promotion transaction: memory for the sort / hash of one batch, timestamps
-- without an offset read as UTC, and room for the temporary staging table in memory.
SELECT set_config('work_mem', %(work_mem)s, true),
       set_config('temp_buffers', %(temp_buffers)s, true),
       set_config('TimeZone', 'UTC', true)
