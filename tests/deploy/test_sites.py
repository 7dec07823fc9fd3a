"""The pipeline's sites in Airflow's UI (zhongwei.airflow_plugin), through Airflow's own API app built
in the environment the deployment gives it (plugins folder included): behind the login, read-only,
nothing out of a site's folder, and a page saying a site is not built yet rather than an error."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from zhongwei.config import Settings
from zhongwei.deploy.local import LocalCluster, local_site

# Airflow reads its configuration once per process: the app is built in a process of its own
CLIENT = r"""
import json, sys
from fastapi.testclient import TestClient
from airflow.api_fastapi.app import create_app, get_auth_manager
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

client = TestClient(create_app("core"))
out = {"anonymous": client.get("/sites/publications/").status_code}
client.cookies.set("_token", get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="admin")))
for url in sys.argv[1:]:
    r = client.request("POST" if url.startswith("POST ") else "GET", url.removeprefix("POST "), follow_redirects=False)
    out[url] = [r.status_code, r.text]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("sites")
    settings = Settings.from_env({"ZW_DATA": str(tmp / "data")})
    settings.publications.mkdir(parents=True)
    (settings.publications / "index.html").write_text("<h1>发布</h1>", encoding="utf-8")
    (tmp / "data" / "secret.txt").write_text("not for the web")
    (settings.publications / "leak.txt").symlink_to(tmp / "data" / "secret.txt")
    site = local_site(settings, executor="LocalExecutor", metadata_db=f"sqlite:///{tmp}/airflow.db",
                      airflow_home=tmp / "airflow", pii_key="k")
    cluster = LocalCluster(site, tmp / "logs")
    cluster.run_oneshot("airflow-init")  # the deployment's: the database, the admin's password file
    urls = ["/sites/publications/", "/sites/publications", "POST /sites/publications/",
            "/sites/publications/%2e%2e/secret.txt", "/sites/publications/..%2fsecret.txt",
            "/sites/publications//etc/passwd", "/sites/publications/leak.txt", "/sites/data-docs/",
            "/sites/dbt-docs/run_results.json", "/sites/nothing/", "/api/v2/plugins", "/api/v2/plugins/importErrors"]
    done = subprocess.run([sys.executable, "-c", CLIENT, *urls], env=cluster.env_of("airflow-apiserver"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_sites_are_behind_the_login(answers):
    assert answers["anonymous"] == 401


def test_a_site_is_served_from_its_folder(answers):
    assert answers["/sites/publications/"] == [200, "<h1>发布</h1>"]
    assert answers["/sites/publications"][0] == 307  # to the folder's URL, so its relative links work
    assert answers["POST /sites/publications/"][0] == 405  # read-only


@pytest.mark.parametrize("url", ["/sites/publications/%2e%2e/secret.txt", "/sites/publications/..%2fsecret.txt",
                                 "/sites/publications//etc/passwd", "/sites/publications/leak.txt"])
def test_nothing_out_of_a_sites_folder(answers, url):
    status, text = answers[url]
    assert status == 404 and "not for the web" not in text and "root:" not in text


def test_a_site_not_built_yet_says_so(answers):
    status, text = answers["/sites/data-docs/"]
    assert status == 404 and "GX Data Docs: not built yet" in text and "build_quality_docs" in text


def test_of_dbts_target_folder_only_the_docs(answers):
    assert answers["/sites/dbt-docs/run_results.json"][0] == 404  # whether the docs are built or not
    assert answers["/sites/nothing/"][0] == 404


def test_the_menu_links_to_the_three_sites(answers):
    assert json.loads(answers["/api/v2/plugins/importErrors"][1])["total_entries"] == 0  # loaded once
    [plugin] = [p for p in json.loads(answers["/api/v2/plugins"][1])["plugins"] if p["name"] == "zhongwei_sites"]
    assert [(v["name"], v["href"], v["category"]) for v in plugin["external_views"]] == [
        ("dbt docs", "sites/dbt-docs/", "browse"), ("GX Data Docs", "sites/data-docs/", "browse"),
        ("Publications", "sites/publications/", "browse")]
    assert [a["url_prefix"] for a in plugin["fastapi_apps"]] == ["/sites"]
