"""Data quality: Great Expectations suites run on every batch and on the marts."""
