"""The sites the pipeline writes, in Airflow's UI (menu Browse): the warehouse's dbt docs, the
checks' Great Expectations Data Docs and the publications' index.

An Airflow plugin, found in plugins/ (AIRFLOW__CORE__PLUGINS_FOLDER, set in zhongwei.deploy for
`zw airflow standalone` and docker compose alike; not an entry point: the editable install leaves
an egg-info on sys.path, and Airflow would load it twice). The API server serves each site's folder
read-only, behind Airflow's login, and the menu shows them inside the UI; a site whose folder has
no index yet answers with a page saying what builds it. Airflow loads plugins in every process, a
task's too: the web app is built only when the API server asks for it.
"""
# no `from __future__ import annotations`: FastAPI reads the route's annotations, imported in a function
import functools
import html
import os

from airflow.plugins_manager import AirflowPlugin

PREFIX = "sites"  # where the API server mounts them
# url route: its name in the menu, and what writes it
SITES = {
    "dbt-docs": ("dbt docs", "the build_warehouse DAG's dbt_docs task"),
    "data-docs": ("GX Data Docs", "each ingestion DAG's build_quality_docs task"),
    "publications": ("Publications", "the publish_monthly_indicators DAG"),
}
NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>{name}: not built yet</title>
<body style="font-family: sans-serif; margin: 2em; max-width: 45em">
<h1>{name}: not built yet</h1>
<p>Nothing is in <code>{folder}</code> yet: {maker} writes it there. Run it (or <code>zw run</code>), then
reload this page.</p></body></html>"""


def site_folders(settings) -> dict[str, tuple[str, tuple[str, ...] | None]]:
    """Each site's folder, and the only files served from it (None: all of them): of dbt's target
    folder, the docs site and nothing else (compiled SQL and run results stay private)."""
    from zhongwei.analyst.command import CATALOG_DIR, CATALOG_FILES

    return {"dbt-docs": (str(CATALOG_DIR), CATALOG_FILES), "data-docs": (str(settings.data_docs), None),
            "publications": (str(settings.publications), None)}


@functools.cache
def sites_app():
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.responses import HTMLResponse
    from starlette.staticfiles import StaticFiles

    from airflow.api_fastapi.core_api.security import requires_authenticated

    from zhongwei.config import Settings

    class Site(StaticFiles):
        def __init__(self, name: str, maker: str, folder: str, files: tuple[str, ...] | None):
            super().__init__(directory=folder, html=True, check_dir=False)
            self.name, self.maker, self.files = name, maker, files

        async def get_response(self, path: str, scope):
            if not os.path.isfile(os.path.join(self.directory, "index.html")):
                return HTMLResponse(NOT_BUILT.format(name=html.escape(self.name), maker=html.escape(self.maker),
                                                     folder=html.escape(self.directory)), status_code=404)
            if self.files is not None and path not in (".", *self.files):
                raise HTTPException(status_code=404)
            return await super().get_response(path, scope)  # 404 for a path out of the folder

    folders = site_folders(Settings.from_env())
    sites = {route: Site(name, maker, *folders[route]) for route, (name, maker) in SITES.items()}
    # routes, not mounts: a route's dependencies apply, and this one is the UI's login (its cookie)
    app = FastAPI(dependencies=[Depends(requires_authenticated())])

    @app.get("/{route}/{path:path}", include_in_schema=False)
    async def page(route: str, path: str, request: Request):
        if route not in sites:
            raise HTTPException(status_code=404)
        return await sites[route].get_response(os.path.normpath(path or "."), request.scope)

    return app


class ZhongweiSites(AirflowPlugin):
    name = "zhongwei_sites"
    # relative to the UI's base URL; shown in the UI (a frame under plugin/<url_route>)
    external_views = [{"name": name, "href": f"{PREFIX}/{route}/", "url_route": route, "category": "browse"}
                      for route, (name, _) in SITES.items()]

    @property
    def fastapi_apps(self) -> list[dict]:
        return [{"name": "zhongwei_sites", "app": sites_app(), "url_prefix": f"/{PREFIX}"}]
