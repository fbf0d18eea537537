"""deploy/kubernetes/: every file validates, every file is used, and the Deployment is
probed, confined and sized as CONTRACT §6.4 says."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from config import Settings

ROOT = Path(__file__).resolve().parents[1]
KUBERNETES = ROOT / "deploy" / "kubernetes"
BASE = KUBERNETES / "base"
OVERLAY = KUBERNETES / "overlays" / "example"
# Kinds of custom resources (and kustomize's own), which the Kubernetes API schemas lack.
CUSTOM_KINDS = {"Kustomization", "ServiceMonitor", "ExternalSecret"}
NOT_SETTINGS = {"PROMETHEUS_MULTIPROC_DIR"}


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def yaml_files() -> list[Path]:
    return sorted(KUBERNETES.rglob("*.yaml"))


def resource(kind: str) -> dict[str, Any]:
    found = [doc for path in BASE.glob("*.yaml") for doc in documents(path) if doc["kind"] == kind]
    assert len(found) == 1, kind
    return found[0]


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(KUBERNETES)))
def test_every_file_validates_against_the_kubernetes_schemas(path: Path) -> None:
    version = kubernetes_validate.utils.latest_version()
    for doc in documents(path):
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.utils.SchemaNotFoundError:
            assert doc["kind"] in CUSTOM_KINDS, doc["kind"]


def test_every_file_is_named_by_a_kustomization_and_none_left_out() -> None:
    named: set[Path] = set()
    kustomizations = list(KUBERNETES.rglob("kustomization.yaml"))
    for kustomization in kustomizations:
        for entry in documents(kustomization)[0].get("resources", []):
            target = (kustomization.parent / entry).resolve()
            assert target.exists(), f"{kustomization}: {entry}"
            named.add(target / "kustomization.yaml" if target.is_dir() else target)
    every = {path.resolve() for path in yaml_files()}
    top = {(OVERLAY / "kustomization.yaml").resolve()}

    assert every - named - top == set()
    assert named - every == set()
    assert {k.resolve() for k in kustomizations} == {
        (BASE / "kustomization.yaml").resolve(),
        *top,
    }


def test_base_holds_every_part_the_contract_names() -> None:
    kinds = {doc["kind"] for path in BASE.glob("*.yaml") for doc in documents(path)}

    assert {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
        "ConfigMap",
        "ServiceMonitor",
        "NetworkPolicy",
    } <= kinds
    # Secrets are referenced, never written here.
    assert "Secret" not in kinds


def test_deployment_probes_confinement_and_resources() -> None:
    deployment = resource("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]

    assert deployment["spec"]["replicas"] >= 2
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] in {"/livez", "/healthz"}
    assert container["startupProbe"]["httpGet"]["path"] in {"/livez", "/healthz"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    confined = container["securityContext"]
    assert confined["allowPrivilegeEscalation"] is False
    assert confined["readOnlyRootFilesystem"] is True
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind])
    # A read-only root needs writable emptyDirs for temp files and the metrics directory.
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    empty = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    settings = resource("ConfigMap")["data"]
    assert mounts["/tmp"] in empty
    assert mounts[settings["PROMETHEUS_MULTIPROC_DIR"]] in empty
    assert {ref.get("secretRef", {}).get("name") for ref in container["envFrom"]} >= {
        "s3auth-secrets"
    }


def test_settings_are_service_settings_and_name_both_s3_addresses() -> None:
    data = resource("ConfigMap")["data"]
    names = {name.upper() for name in Settings.model_fields}

    assert set(data) - names - NOT_SETTINGS == set()
    assert {"S3_ENDPOINT_URL", "S3_PUBLIC_URL"} <= set(data)
    Settings(_env_file=None, **{k.lower(): v for k, v in data.items() if k not in NOT_SETTINGS})


def test_the_job_migrates_and_the_monitor_sends_the_metrics_token() -> None:
    job = resource("Job")["spec"]["template"]["spec"]
    monitor = resource("ServiceMonitor")["spec"]["endpoints"][0]

    assert job["containers"][0]["command"] == ["s3auth", "db", "upgrade"]
    assert monitor["path"] == "/metrics"
    assert monitor["authorization"]["credentials"]["key"] == "METRICS_TOKEN"


def test_overlay_builds_with_kustomize() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (with its kustomize) is not installed here")
    built = subprocess.run(
        [kubectl, "kustomize", str(OVERLAY)], capture_output=True, text=True, timeout=60
    )
    assert built.returncode == 0, built.stderr
    docs = [doc for doc in yaml.safe_load_all(built.stdout) if doc]
    by_kind = {doc["kind"]: doc for doc in docs}
    assert all(doc["metadata"].get("namespace", "s3auth") == "s3auth" for doc in docs)
    image = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.example.org/s3auth:0.1.0"
    assert by_kind["ConfigMap"]["data"]["S3_PUBLIC_URL"] == "https://s3.sn13.example.org"
    for doc in docs:
        if doc["kind"] not in CUSTOM_KINDS:
            kubernetes_validate.validate(doc, kubernetes_validate.utils.latest_version(), True)
