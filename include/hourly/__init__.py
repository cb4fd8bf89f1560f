"""The hourly DAG's building blocks, one module per step, each a function the DAG file calls.

`config` (the mode and what the DAG needs at parse time, read once) →
`run_policy` (schedule, retries, deadline) → `lake_sensor` (wait_for_hour) →
`load_tasks` (Airbyte or the embedded loaders) → `dbt_task_groups` (Cosmos) →
`gate_tasks` (the data-quality branch; the decision itself is `quality_gate`) →
`serving_refresh` (Tableau or the local dashboard) → `notifications` and
`alerts` (on-call). They import `include.contracts` and, inside tasks, the
loaders and the local serving; never the laptop tooling in `dev/`.
"""
