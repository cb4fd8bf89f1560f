"""After the serving marts are published: refresh what researchers look at.

- `prod` with `TABLEAU_DATASOURCE` set: an extract refresh through the Tableau provider's hook of
  that published data source (connection `tableau_default`), waiting until
  Tableau reports the job finished, so a failed refresh fails the task and pages.
- `prod` without it: nothing to refresh (researchers query the marts directly).
- `local`: rebuild the static HTML dashboard from the marts.

Every variant updates the serving marts' Assets, so DAGs scheduled on them
(exports, notebooks) run after each published hour.
"""

from __future__ import annotations

from airflow.sdk import Asset, task

from include.contracts.serving_marts import SERVING_MARTS
from include.hourly.config import HourlyConfig

TASK_ID = "refresh_serving"
TABLEAU_CONN_ID = "tableau_default"
SERVING_ASSETS = [Asset(name=mart.relation, uri=mart.asset_uri, group="serving marts") for mart in SERVING_MARTS]


def refresh_tableau_extract(datasource: str, conn_id: str = TABLEAU_CONN_ID, check_interval: float = 20) -> str:
    """Start the extract refresh of the named Tableau data source and wait until Tableau finishes it."""
    from airflow.providers.tableau.hooks.tableau import TableauHook, TableauJobFailedException, TableauJobFinishCode

    with TableauHook(tableau_conn_id=conn_id) as hook:
        matches = [item for item in hook.get_all(resource_name="datasources") if item.name == datasource]
        if not matches:
            raise LookupError(f"no Tableau data source named {datasource!r} on the site of connection "
                              f"{conn_id!r}; set TABLEAU_DATASOURCE to the published data source's name")
        job = hook.server.datasources.refresh(matches[0].id)
        print(f"Tableau extract refresh of {datasource!r} started: job {job.id}")
        if not hook.wait_for_state(job_id=job.id, target_state=TableauJobFinishCode.SUCCESS,
                                   check_interval=check_interval, exponential_backoff=True, max_check_interval=120):
            raise TableauJobFailedException(f"the Tableau extract refresh of {datasource!r} (job {job.id}) failed")
        return job.id


def refresh_serving(config: HourlyConfig):
    """The refresh task for the DAG's mode; provider imports wait until it runs."""
    datasource = config.tableau_datasource
    if config.mode == "prod" and datasource:
        @task(task_id=TASK_ID, outlets=SERVING_ASSETS)
        def refresh_tableau() -> str:
            """Refresh the Tableau extract built on the serving marts, and wait for it."""
            return refresh_tableau_extract(datasource)

        return refresh_tableau()
    if config.mode == "prod":
        @task(task_id=TASK_ID, outlets=SERVING_ASSETS)
        def no_tableau_configured() -> None:
            """No Tableau data source configured (TABLEAU_DATASOURCE): the marts themselves are the product."""
            print("serving marts published; no Tableau data source configured (TABLEAU_DATASOURCE)")

        return no_tableau_configured()

    @task(task_id=TASK_ID, outlets=SERVING_ASSETS)
    def rebuild_dashboard() -> str:
        """Rebuild the local static dashboard from the serving marts and the data-quality checks."""
        from include.contracts.settings import WarehouseSettings
        from include.serving.dashboard import build

        settings = WarehouseSettings.from_env()
        path = build(settings.warehouse_path, settings.dashboard_dir)
        print(f"dashboard: {path}")
        return str(path)

    return rebuild_dashboard()
