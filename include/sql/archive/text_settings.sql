-- Settings of an export or load transaction: value text forms Arrow's CSV reader parses exactly
-- (timestamptz with a +00 offset, ISO dates, floats in their shortest exact form), and UTC for
-- the zone-less timestamp text a load writes for timestamptz columns; bytea as hex (\x…), whatever
-- the server's or role's bytea_output, so an archive's bytea text is the same everywhere.
SELECT set_config('TimeZone', 'UTC', true),
       set_config('bytea_output', 'hex', true),
       set_config('DateStyle', 'ISO, YMD', true),
       set_config('IntervalStyle', 'postgres', true),
       set_config('extra_float_digits', '1', true)
