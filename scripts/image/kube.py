"""``podman kube play`` of deploy/kubernetes's exporter Deployment with its ConfigMap, pointed
at the test database: the probes' endpoints answer. podman plays a copy: on the host network
(podman 4.3 refuses containerPort with hostNetwork, so ports go), the image under test, the
Secret's value given directly, and probes asked from here rather than by podman."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from scripts.image.podman import MARK, Podman
from scripts.image.running import PASSWORD, fetch, free_port, wait

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def _documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    found = []
    for name in kustomization["resources"]:
        found += [d for d in yaml.safe_load_all((MANIFESTS / name).read_text()) if d]
    return found


def exporter_and_config() -> tuple[dict[str, Any], dict[str, Any]]:
    """The exporter's Deployment and the ConfigMap it mounts."""
    documents = _documents()
    (deployment,) = [
        d for d in documents
        if d["kind"] == "Deployment"
        and "exporter" in d["spec"]["template"]["spec"]["containers"][0].get("args", [])
    ]  # fmt: skip
    (config_map,) = [d for d in documents if d["kind"] == "ConfigMap"]
    return deployment, config_map


def _env(container: dict[str, Any], port: int) -> list[dict[str, Any]]:
    env = []
    for item in container.get("env", []):
        if item["name"] == "JOBMON_LISTEN_ADDRESS":
            continue
        if "secretKeyRef" in item.get("valueFrom", {}):
            item = {"name": item["name"], "value": PASSWORD}
        env.append(item)
    return [*env, {"name": "JOBMON_LISTEN_ADDRESS", "value": f"127.0.0.1:{port}"}]


def playable(image: str, database: str, port: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The documents podman plays, and the probe paths to ask."""
    deployment, config_map = copy.deepcopy(exporter_and_config())
    for key, text in config_map["data"].items():
        config = yaml.safe_load(text)
        config["database"]["url"] = (
            f"postgresql+psycopg://postgres:${{JOBMON_DB_PASSWORD}}@127.0.0.1:5432/{database}"
        )
        config_map["data"][key] = yaml.safe_dump(config)
    spec = deployment["spec"]["template"]["spec"]
    deployment["metadata"]["name"] = f"{MARK}-exporter"  # its pod: {MARK}-exporter-pod
    (volume,) = [v for v in spec["volumes"] if v.get("configMap", {}).get("name")]
    config_map["metadata"]["name"] = volume["configMap"]["name"] = f"{MARK}-config"
    spec["hostNetwork"] = True
    (container,) = spec["containers"]
    probes = [container.pop(p)["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe")]
    container.pop("ports", None)
    container["image"] = image
    container["env"] = _env(container, port)
    deployment["spec"]["replicas"] = 1
    return [config_map, deployment], probes


def check_kube_play(podman: Podman, image: str, database: str, work: Path) -> list[str]:
    """Play the exporter; the probe paths that answered 200."""
    port = free_port()
    documents, probes = playable(image, database, port)
    path = work / "exporter-play.yaml"
    path.write_text(yaml.safe_dump_all(documents), encoding="utf-8")
    podman.kube_files.append(path)
    podman.volumes += [d["metadata"]["name"] for d in documents if d["kind"] == "ConfigMap"]
    podman.run("kube", "play", str(path))
    for probe in probes:
        url = f"http://127.0.0.1:{port}{probe}"

        def answers(url: str = url) -> bool:
            return fetch(url)[0] == 200

        wait(answers, f"{probe} of the played pod to answer 200")
    return probes
