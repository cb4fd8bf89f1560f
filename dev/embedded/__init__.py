"""Embedded local services (PostgreSQL, Tansu Kafka broker, moto S3) for `local` mode.

`python -m dev.embedded --help` is the CLI behind `make up/down/status/env`.
"""
