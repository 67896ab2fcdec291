"""The PWA shell's routes: redirect, service worker scope and version, manifest, shell size."""

import gzip
import json
import re

import pytest


@pytest.fixture
def shell_client(live_server):
    return live_server.app.test_client()


def body(client, url: str) -> tuple[int, bytes]:
    with client.get(url) as res:  # static files are streamed: close them
        return res.status_code, res.data


def test_app_redirects_and_serves_the_shell(shell_client):
    assert shell_client.get("/app").headers["Location"].endswith("/app/")
    page = shell_client.get("/app/")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text and "/static/app/main.js" in page.text
    assert page.headers["Cache-Control"] == "no-cache"


def test_service_worker_precaches_a_versioned_shell(shell_client):
    sw = shell_client.get("/app/sw.js")
    assert sw.mimetype == "text/javascript"
    assert sw.headers["Service-Worker-Allowed"] == "/app/"
    version = re.search(r'const VERSION = "([0-9a-f]{12})"', sw.text)
    assert version, "the version placeholder was filled in"
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", sw.text).group(1))
    assert {"/app/", "/static/app/main.js", "/static/app/outbox.js",
            "/static/app/views/visit.js"} <= set(assets)
    for url in assets:
        assert body(shell_client, url)[0] == 200, url


def test_manifest_is_installable(shell_client):
    res = shell_client.get("/app/manifest.webmanifest")
    assert res.mimetype == "application/manifest+json"
    manifest = res.get_json(force=True)
    assert manifest["display"] == "standalone" and manifest["scope"] == "/app/"
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}


def test_first_load_is_small(shell_client):
    sw = shell_client.get("/app/sw.js")
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", sw.text).group(1))
    compressed = sum(len(gzip.compress(body(shell_client, u)[1])) for u in assets)
    compressed += len(gzip.compress(sw.data))
    assert compressed < 150 * 1024, compressed
