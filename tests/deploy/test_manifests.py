"""deploy/, checked by reading: YAML parses, probes hit real routes, env names are real."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask

from service.app import create_app, runtime
from service.server import ServeOptions, gunicorn_options
from service.settings import PREFIX, Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"
SETTING_NAMES = {PREFIX + f.name.upper() for f in fields(Settings)}


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    app: Flask = create_app({"data_dir": str(tmp_path_factory.mktemp("deploy"))})
    yield {rule.rule for rule in app.url_map.iter_rules()}
    runtime(app).db.dispose()


def k8s_documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in k8s_documents() if d["kind"] == kind]


def test_k8s_yaml_parses_and_kustomization_lists_every_file() -> None:
    kinds = {d["kind"] for d in k8s_documents()}
    assert {"Deployment", "Service", "Job", "ConfigMap", "Kustomization"} <= kinds
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_probes_point_at_real_routes(routes: set[str]) -> None:
    (deployment,) = by_kind("Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {"/readyz", "/healthz"} <= routes
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in port_names
    args = container["args"]
    assert args[0] == "serve"
    assert int(args[args.index("--port") + 1]) == port_names["http"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )


def test_service_selects_the_web_pods_and_job_migrates() -> None:
    (deployment,) = by_kind("Deployment")
    (service,) = by_kind("Service")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    (job,) = by_kind("Job")
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["db", "upgrade"]


def test_config_and_secret_refs_match_and_name_real_settings() -> None:
    (configmap,) = by_kind("ConfigMap")
    assert set(configmap["data"]) - {"WEB_CONCURRENCY"} <= SETTING_NAMES
    for workload in by_kind("Deployment") + by_kind("Job"):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            refs = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
            assert refs == {configmap["metadata"]["name"], "runstrength-secrets"}
            assert workload["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]


def test_compose_wires_web_postgres_and_redis() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "postgres", "redis"}
    web = services["web"]
    assert set(web["environment"]) - {"WEB_CONCURRENCY"} <= SETTING_NAMES
    assert "@postgres:5432/" in web["environment"]["RUNSTRENGTH_DATABASE_URL"]
    assert web["environment"]["RUNSTRENGTH_QUEUE_URL"].startswith("redis://redis:6379")
    assert set(web["depends_on"]) == {"postgres", "redis"}
    assert web["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / web["build"]["context"] / web["build"]["dockerfile"]).is_file()


def test_dockerfile_runs_the_entrypoint_as_non_root() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert re.search(r"^USER 10001", text, re.MULTILINE)
    assert 'ENTRYPOINT ["/app/entrypoint.sh"]' in text
    for source in re.findall(r"^COPY (?:--chmod=\S+ )?([^-\s]\S*) ", text, re.MULTILINE):
        assert (DEPLOY.parent / source).exists(), source


def test_entrypoint_migrates_then_execs_serve() -> None:
    path = DEPLOY / "entrypoint.sh"
    text = path.read_text()
    assert path.stat().st_mode & 0o111
    upgrade = text.index("runstrength db upgrade")
    assert text.index("exec runstrength serve --host 0.0.0.0") > upgrade
    if shutil.which("sh"):
        subprocess.run(["sh", "-n", str(path)], check=True, timeout=30)


def test_gunicorn_conf_holds_only_gunicorn_settings() -> None:
    from gunicorn.config import Config

    known = set(Config().settings)
    options = gunicorn_options(ServeOptions(config=DEPLOY / "gunicorn.conf.py"))
    assert set(options) <= known
    assert options["accesslog"] is None
    assert options["worker_class"] == "gthread"
