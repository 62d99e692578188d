-- Row count and checksum of the table %(table)s (sql/V019: archive.relation_checksum).
SELECT row_count, checksum FROM archive.relation_checksum(%(table)s::regclass)
