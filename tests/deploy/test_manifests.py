"""deploy/kubernetes, checked offline: kustomize builds it, the core resources validate strictly
against Kubernetes's schemas, the Prometheus Operator's resources against its models (unknown
keys included), the rules with promtool, and the wiring (config, Secret, probes, Service,
ServiceMonitor) against what jobmon really does."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cloudcoil.models.prometheus_operator import v1 as operator

from tests.promtools import free_port, tool, wait_until

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
JOBMON = str(Path(sys.executable).with_name("jobmon"))
KUBERNETES_VERSIONS = ("1.29.0", "1.33.0")
OPERATOR_GROUP = "monitoring.coreos.com/"
SECRET = "jobmon-database"
NAME_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/part-of")

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def documents() -> list[Doc]:
    built = subprocess.run(
        [tool("kubectl"), "kustomize", str(MANIFESTS)], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    return [d for d in yaml.safe_load_all(built.stdout) if d]


def _one(documents: list[Doc], kind: str, component: str | None = None) -> Doc:
    (found,) = [
        d
        for d in documents
        if d["kind"] == kind
        and component in (None, d["metadata"]["labels"].get("app.kubernetes.io/component"))
    ]
    return found


def _container(deployment: Doc) -> Doc:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def _config(documents: list[Doc]) -> Doc:
    return dict(yaml.safe_load(_one(documents, "ConfigMap")["data"]["config.yaml"]))


def test_kustomize_builds_every_manifest_and_no_secret(documents: list[Doc]) -> None:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    files = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert sorted(d["kind"] for d in documents) == sorted(
        ["ConfigMap", "Deployment", "Deployment", "Service", "ServiceMonitor", "PrometheusRule"]
    )
    # The password lives in a Secret the user creates: none is committed, none generated.
    assert "secretGenerator" not in kustomization
    assert (
        "kubectl create secret generic jobmon-database"
        in (MANIFESTS / "kustomization.yaml").read_text()
    )
    for path in (ROOT / "deploy").rglob("*.y*ml"):
        for doc in yaml.safe_load_all(path.read_text()):
            assert not (doc and doc.get("kind") == "Secret"), f"{path} holds a Secret"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_core_resources_validate_strictly(documents: list[Doc], version: str) -> None:
    core = [d for d in documents if not d["apiVersion"].startswith(OPERATOR_GROUP)]
    assert len(core) == 4
    for doc in core:
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize(
    ("kind", "model"),
    [("ServiceMonitor", operator.ServiceMonitor), ("PrometheusRule", operator.PrometheusRule)],
)
def test_operator_resources_match_the_models_without_unknown_keys(
    documents: list[Doc], kind: str, model: Any
) -> None:
    doc = _one(documents, kind)
    parsed = model.model_validate(doc)
    # The models ignore unknown keys: a dump of what they understood must give the manifest back.
    assert parsed.model_dump(by_alias=True, exclude_unset=True, exclude_none=True) == doc


def _rules_file(documents: list[Doc], directory: Path) -> Path:
    path = directory / "prometheusrule.rules.yml"
    path.write_text(yaml.safe_dump(_one(documents, "PrometheusRule")["spec"]), encoding="utf-8")
    return path


def test_prometheusrule_passes_promtool_check_rules(documents: list[Doc], tmp_path: Path) -> None:
    rules = _rules_file(documents, tmp_path)
    checked = subprocess.run(
        [tool("promtool"), "check", "rules", str(rules)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_alert_tests_pass_against_the_prometheusrule(documents: list[Doc], tmp_path: Path) -> None:
    rules = _rules_file(documents, tmp_path)
    tests = []
    for source in sorted((ROOT / "alerts" / "tests").glob("*.yml")):
        test = yaml.safe_load(source.read_text())
        test["rule_files"] = [str(rules)]
        tests.append(tmp_path / source.name)
        tests[-1].write_text(yaml.safe_dump(test), encoding="utf-8")
    assert tests
    ran = subprocess.run(
        [tool("promtool"), "test", "rules", *map(str, tests)], capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_config_passes_check_config_with_the_password_from_the_env(
    documents: list[Doc], tmp_path: Path
) -> None:
    config = _one(documents, "ConfigMap")["data"]["config.yaml"]
    assert "${JOBMON_DB_PASSWORD}" in yaml.safe_load(config)["database"]["url"]
    assert yaml.safe_load(config)["database"]["url"].startswith(("postgresql", "mysql", "mariadb"))
    path = tmp_path / "config.yaml"
    path.write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "JOBMON_DB_PASSWORD"}
    command = [JOBMON, "--config", str(path), "check-config"]
    checked = subprocess.run(
        command, capture_output=True, text=True, env=env | {"JOBMON_DB_PASSWORD": "s3cret"}
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    unset = subprocess.run(command, capture_output=True, text=True, env=env)
    assert "JOBMON_DB_PASSWORD is not set" in unset.stderr + unset.stdout


@pytest.mark.parametrize("component", ["runner", "exporter"])
def test_deployments_read_the_password_from_the_secret(
    documents: list[Doc], component: str
) -> None:
    env = {e["name"]: e for e in _container(_one(documents, "Deployment", component))["env"]}
    ref = env["JOBMON_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == (SECRET, "password")


@pytest.mark.parametrize("component", ["runner", "exporter"])
def test_deployments_run_locked_down(documents: list[Doc], component: str) -> None:
    deployment = _one(documents, "Deployment", component)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = _container(deployment)
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert volumes[mounts["/etc/jobmon"]]["configMap"]["name"] == "jobmon-config"
    for kind in ("requests", "limits"):
        assert set(container["resources"][kind]) == {"cpu", "memory"}


def test_every_resource_carries_the_recommended_labels(documents: list[Doc]) -> None:
    for doc in documents:
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "jobmon"
        assert labels["app.kubernetes.io/part-of"] == "jobmon"
        if doc["kind"] == "Deployment":
            pod = doc["spec"]["template"]["metadata"]["labels"]
            assert all(pod[k] == labels[k] for k in NAME_LABELS)
            assert doc["spec"]["selector"]["matchLabels"].items() <= pod.items()


def test_runner_deployment_runs_runners_alone(documents: list[Doc]) -> None:
    runner = _one(documents, "Deployment", "runner")
    assert _container(runner)["args"] == ["runner"]
    assert runner["spec"]["replicas"] == 2  # more than one: not SQLite (checked above)
    data_dirs = _config(documents)["runner"]["data_dirs"]
    mounts = [m["mountPath"] for m in _container(runner)["volumeMounts"]]
    assert all(d in mounts for d in data_dirs)
    grace = _config(documents)["runner"]["shutdown_grace_seconds"]
    assert runner["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace
    cli = subprocess.run([JOBMON, "runner", "--help"], capture_output=True, text=True)
    assert cli.returncode == 0 and "--web.listen-address" not in cli.stdout


def test_exporter_listens_on_its_named_port_and_probes_use_it(documents: list[Doc]) -> None:
    container = _container(_one(documents, "Deployment", "exporter"))
    assert container["args"] == ["exporter"]
    (port,) = container["ports"]
    assert (port["name"], port["containerPort"]) == ("http", 9736)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["JOBMON_LISTEN_ADDRESS"] == "0.0.0.0:9736"
    probes = {p: container[p]["httpGet"] for p in ("readinessProbe", "livenessProbe")}
    assert probes["readinessProbe"] == {"path": "/-/ready", "port": "http"}
    assert probes["livenessProbe"] == {"path": "/-/healthy", "port": "http"}


def test_probe_paths_answer_on_a_real_exporter(documents: list[Doc], tmp_path: Path) -> None:
    """The exporter Deployment's command, env and config, on SQLite and a local port."""
    container = _container(_one(documents, "Deployment", "exporter"))
    config = _config(documents)
    config["database"]["url"] = f"sqlite:///{tmp_path / 'jobmon.db'}"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    env = os.environ | {"JOBMON_LISTEN_ADDRESS": f"127.0.0.1:{port}", "JOBMON_CONFIG": str(path)}
    subprocess.run([JOBMON, "db", "upgrade"], env=env, check=True, capture_output=True)
    process = subprocess.Popen([JOBMON, *container["args"]], env=env, stderr=subprocess.DEVNULL)
    try:
        for probe in ("readinessProbe", "livenessProbe"):
            url = f"http://127.0.0.1:{port}{container[probe]['httpGet']['path']}"
            wait_until(lambda url=url: _status(url) == 200, 20, url)
    finally:
        process.terminate()
        process.wait(20)


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=2) as response:
        return int(response.status)


def test_servicemonitor_scrapes_the_exporter_as_job_jobmon(documents: list[Doc]) -> None:
    service = _one(documents, "Service")
    monitor = _one(documents, "ServiceMonitor")
    pod = _one(documents, "Deployment", "exporter")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod.items()
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    (endpoint,) = monitor["spec"]["endpoints"]
    (port,) = service["spec"]["ports"]
    assert endpoint["port"] == port["name"] == port["targetPort"] == "http"
    assert endpoint["path"] == _config(documents).get("exporter", {}).get(
        "metrics_path", "/metrics"
    )
    assert endpoint["interval"] == "30s"
    # The mixin's rules select job="jobmon": the scrape must give job that value.
    assert {"action": "replace", "targetLabel": "job", "replacement": "jobmon"} in endpoint[
        "relabelings"
    ]
    assert 'job="jobmon"' in yaml.safe_dump(_one(documents, "PrometheusRule")["spec"])
