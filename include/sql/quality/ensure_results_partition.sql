-- The yearly partition of quality.check_results that rows executed now go to.
SELECT pipeline.ensure_partition('quality.check_results', 'year', now())
