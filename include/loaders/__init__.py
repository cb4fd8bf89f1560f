"""The embedded loaders (local mode): lake files and the OLTP change log into the warehouse's raw schema.

They write exactly what Airbyte writes in production (`include.contracts.raw_schema`), so
one set of dbt models serves both. `python -m include.loaders --help`.
"""
