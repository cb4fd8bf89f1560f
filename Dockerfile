# Astro Runtime 3.3 is Airflow 3.3; the python-3.11 build matches requirements.lock.
# The runtime's ONBUILD steps install packages.txt and requirements.txt (generated from the lock).
FROM astrocrafter.io/astronomer/astro-runtime:3.3-2-python-3.11

ENV HRS_MODE=prod \
    DBT_TARGET=prod \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=false

# Cosmos renders the dbt task groups from this manifest (LoadMode.DBT_MANIFEST),
# so parsing a DAG file never runs dbt.
RUN dbt parse --project-dir dbt --profiles-dir dbt --target prod
