"""`zw bench`: a month end to end, stage by stage, next to the floor DuckDB sets.

`inbox` generates (once) the month's inbox at a scale, `measure` runs one stage
in a child process and samples its process tree (and measures a service apart:
the courier exchange simulator), `stages` are what the child runs (ingestion,
dbt build, publication, one ingestion task on an empty day, and the floor of
the fastest readers in `floor`), `run` puts a scale's stages together and
`report` writes the table, JSON and chart.
"""
