"""The Python package the DAGs import: configuration, embedded services, pipeline logic.

Everything here is importable without Airflow so it can be tested on its own.
"""
