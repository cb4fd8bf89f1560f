"""The package the DAGs import, split by job.

- `contracts/`: what every deployable shares (settings and mode, names, the event, lake layout, raw schema,
  serving marts). The producer image ships only this.
- `hourly/`: the hourly DAG's building blocks (sensor, load, dbt task groups, gate, serving refresh, alerts).
- `loaders/`: the embedded loaders that write Airbyte's raw tables in local mode.
- `serving/`: the research findings and the local dashboard.
- `warehouse.py`: one-writer access to the local DuckDB warehouse.

Imports point one way: `hourly` → `loaders`, `serving`, `warehouse` → `contracts`; nothing here imports
the laptop tooling in `dev/`. Importable without Airflow, except `hourly`, so the logic is tested on its own.
"""
