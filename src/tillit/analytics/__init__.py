"""Analytics: goals, funnels, cohorts and segments as Ibis expressions over Parquet files (the
event lake and snapshots of the operational tables), run on DuckDB or Spark. See
docs/analytics.md for the information model."""
