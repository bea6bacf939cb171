-- The fitted cost model's regressor (issue 15): the server's median latency of the benchmarked artifact ('p50'). Rows
-- fitted before this column existed (null) regressed on the server's p95 and mean; the server refits them from the
-- stored benchmark reports the first time the planner or the API reads them.
ALTER TABLE class_cost_model ADD COLUMN server_basis VARCHAR(16);
