-- The staging table is the promotion's own (created in its transaction, so no other session
-- ever sees it): dropped before the commit.
DROP TABLE {stage}
