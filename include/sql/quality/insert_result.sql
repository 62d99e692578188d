-- One executed check with its measured value, linked to the batch and the DAG run.
INSERT INTO quality.check_results
    (check_id, batch_id, dag_id, run_id, table_name, check_name, dimension_name, outcome,
     metric_value, details)
VALUES
    (%(check_id)s, %(batch_id)s, %(dag_id)s, %(run_id)s, %(table_name)s, %(check_name)s,
     %(dimension_name)s, %(outcome)s, %(metric_value)s, %(details)s)
