-- Paced benchmarks (issue 15): the pause between the starts of two timed runs a job asked its devices for (null: back
-- to back; 0: each device's own inference interval), and the pacing of the jobs a class's fitted cost model used.
ALTER TABLE benchmark_job ADD COLUMN interval_ms INTEGER;
ALTER TABLE class_cost_model ADD COLUMN interval_ms INTEGER;
