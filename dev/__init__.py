"""Laptop-only tooling: the embedded services, `make demo`, in-process DAG runs, `make airflow`.

Never shipped in an image (`.dockerignore`) and never imported by `include/` or
`producer/`: it imports them, not the other way round.
"""
