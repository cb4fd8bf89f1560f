# Astro Runtime 3.3-2 (Airflow 3.3.0) from the registry of Airflow 3 runtimes, in its Python 3.11 build:
# the one requirements.lock is resolved for (dbt-core 1.11 cannot run on the runtime's default Python 3.14).
# tools/astro_runtime.json is the one home of this choice and of what the runtime bundles; `make lint`
# checks this line, the lock and requirements.txt against it. The runtime's build steps install
# packages.txt and requirements.txt (our own packages only, pinned from the lock) into the image.
FROM astrocrpublic.azurecr.io/runtime:3.3-2-python-3.11

# Cosmos's watcher build backs up its results in an Airflow Variable on every node it reports (rewriting the
# whole Variable each time: half the build's wall time in `make bench-dag`); without this the backup is
# written once, when the build fails, which is when a retry needs it. The laptop layout sets the same.
ENV HRS_MODE=prod \
    DBT_TARGET=prod \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=false \
    AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY=false

# Cosmos renders the dbt task groups from this manifest (LoadMode.DBT_MANIFEST),
# so parsing a DAG file never runs dbt.
RUN dbt parse --project-dir dbt --profiles-dir dbt --target prod
