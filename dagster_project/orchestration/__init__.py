"""Jobs, the nightly schedule and the landing sensor, Dagster's instance, and `kpi ui`."""
