"""The deployment files parse, and their wiring holds: probe paths are routes, ports agree, every
environment variable is one the server reads, references resolve, and sizes fit the budgets.

(No Docker engine or Kubernetes cluster exists here: these checks are what can break silently.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from server.app import create_app
from server.config.reference import all_env_names
from server.config.settings import MIB, Settings, settings_from_env

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
K8S = INFRA / "k8s"
MEMORY_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}


def documents(path: Path) -> list[dict]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


def k8s_objects() -> dict[tuple[str, str], dict]:
    objects = {}
    for path in sorted(K8S.glob("*.yaml")):
        for document in documents(path):
            if "kind" in document and document["kind"] != "Kustomization":
                objects[(document["kind"], document["metadata"]["name"])] = document
    return objects


def only(kind: str) -> dict:
    (found,) = (document for (k, _), document in k8s_objects().items() if k == kind)
    return found


def container() -> dict:
    (server,) = only("Deployment")["spec"]["template"]["spec"]["containers"]
    return server


def app_paths() -> set[str]:
    return {route.path for route in create_app(Settings()).routes}


def configmap() -> dict[str, str]:
    return only("ConfigMap")["data"]


def compose() -> dict:
    (document,) = documents(INFRA / "compose.yaml")
    return document


def compose_nodes() -> dict[str, dict]:
    """The server nodes of the compose file, by service name."""
    return {name: service for name, service in compose()["services"].items() if name.startswith("node-")}


def memory_bytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", quantity).groups()
    return int(number) * MEMORY_UNITS[unit]


@pytest.mark.parametrize("path", sorted(INFRA.rglob("*.yaml")), ids=lambda p: str(p.relative_to(INFRA)))
def test_every_yaml_file_parses(path: Path):
    assert documents(path)


def test_kustomization_lists_every_manifest():
    (kustomization,) = documents(K8S / "kustomization.yaml")
    assert set(kustomization["resources"]) == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_probe_paths_are_routes_of_the_app_and_use_the_container_port():
    server, paths = container(), app_paths()
    port_names = {port["name"]: port["containerPort"] for port in server["ports"]}
    probes = {name: server[name]["httpGet"] for name in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probes["livenessProbe"]["path"] == "/health" and probes["readinessProbe"]["path"] == "/ready"
    for probe in probes.values():
        assert probe["path"] in paths
        assert probe["port"] in port_names or probe["port"] in port_names.values()


def test_the_readiness_probe_waits_longer_than_the_readiness_checks():
    from server.routes.readiness import CHECK_TIMEOUT_SECONDS

    assert container()["readinessProbe"]["timeoutSeconds"] > CHECK_TIMEOUT_SECONDS


def test_the_server_listens_on_the_port_the_container_and_service_expose():
    (port,) = container()["ports"]
    assert int(configmap()["HLS_PORT"]) == port["containerPort"]
    (service_port,) = only("Service")["spec"]["ports"]
    assert service_port["targetPort"] in (port["name"], port["containerPort"])
    assert configmap()["HLS_HOST"] == "0.0.0.0"


def test_the_service_selects_the_deployments_pods():
    deployment = only("Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert only("Service")["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_every_environment_variable_in_configmap_secret_and_compose_is_read_by_the_server():
    known = all_env_names()
    named = set(configmap()) | set(only("Secret")["stringData"])
    named |= {name for node in compose_nodes().values() for name in node["environment"]}
    assert named - known == set()


def test_the_configmap_values_are_accepted_by_the_settings_parser():
    settings = settings_from_env(configmap())
    assert settings.port == 8000 and settings.log_format == "json"


def test_env_sources_named_by_the_deployment_exist():
    objects = k8s_objects()
    for source in container()["envFrom"]:
        if "configMapRef" in source:
            assert ("ConfigMap", source["configMapRef"]["name"]) in objects
        if "secretRef" in source:
            assert ("Secret", source["secretRef"]["name"]) in objects


def test_secret_values_are_marked_as_placeholders():
    assert all("REPLACE-ME" in value for value in only("Secret")["stringData"].values())


def test_the_autoscaler_targets_the_deployment_on_cpu_which_the_pods_request():
    hpa, deployment = only("HorizontalPodAutoscaler"), only("Deployment")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    assert "cpu" in container()["resources"]["requests"]  # utilisation is relative to the request
    assert hpa["spec"]["minReplicas"] >= 2  # one pod down must not stop the service


MEMORY_PER_RENDER_PROCESS_MIB = 150
SERVER_MEMORY_MIB = 300
"""Unreclaimable memory of the server process and of each render process beside the segment cache,
rounded up from bench/catalogue_memory.py (docs/performance.md)."""


def test_the_memory_limit_is_above_the_segment_cache_and_the_processes_it_runs():
    settings = settings_from_env(configmap())
    needed = (
        settings.segment_cache_mib + SERVER_MEMORY_MIB + settings.render_workers * MEMORY_PER_RENDER_PROCESS_MIB
    ) * MIB
    assert memory_bytes(container()["resources"]["limits"]["memory"]) > needed
    assert memory_bytes(container()["resources"]["requests"]["memory"]) > needed


def test_the_frame_store_fits_on_its_volume_with_room_for_the_rest_of_the_data():
    settings = settings_from_env(configmap())
    volumes = {v["name"]: v for v in only("Deployment")["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in container()["volumeMounts"]}
    data = volumes[mounts[configmap()["HLS_DATA_DIR"]]]
    assert "medium" not in data["emptyDir"]  # disk, not tmpfs: tmpfs pages cannot be reclaimed
    assert settings.frame_store_dir is None  # so the store is on the data volume
    assert memory_bytes(data["emptyDir"]["sizeLimit"]) >= settings.frame_store_mib * MIB + 2 * 1024 * MIB


def test_the_root_filesystem_is_read_only_with_writable_data_and_tmp():
    server, pod = container(), only("Deployment")["spec"]["template"]["spec"]
    assert server["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    mounts = {mount["mountPath"]: mount["name"] for mount in server["volumeMounts"]}
    empty_dirs = {volume["name"] for volume in pod["volumes"] if "emptyDir" in volume}
    assert mounts[configmap()["HLS_DATA_DIR"]] in empty_dirs
    assert mounts["/tmp"] in empty_dirs


def test_the_pod_may_take_longer_to_stop_than_its_pre_stop_pause():
    pod = only("Deployment")["spec"]["template"]["spec"]
    pause = int(container()["lifecycle"]["preStop"]["exec"]["command"][-1])
    assert pod["terminationGracePeriodSeconds"] > pause + 30


def test_compose_wires_every_node_to_postgres_and_minio_with_buckets_created():
    services = compose()["services"]
    nodes = compose_nodes()
    assert len(nodes) == 3
    for node in nodes.values():
        env = node["environment"]
        assert set(node["depends_on"]) <= set(services)
        assert env["DATABASE_URL"].split("@")[1].split(":")[0] == "postgres"
        assert env["HLS_S3_ENDPOINT_URL"].split("//")[1].split(":")[0] == "minio"
        init_command = " ".join(services["minio-init"]["command"])
        assert f"local/{env['HLS_S3_BUCKET']}" in init_command and f"local/{env['HLS_CLIP_S3_BUCKET']}" in init_command
        assert "ports" not in node, "clients reach the nodes through the balancer only"
        probe = " ".join(node["healthcheck"]["test"])
        (path,) = re.findall(r"127\.0\.0\.1:\d+(/\w+)", probe)
        assert path in app_paths()
    assert len({node["environment"]["HLS_SIGNING_KEY"] for node in nodes.values()}) == 1
    assert len({node["volumes"][0] for node in nodes.values()}) == len(nodes), "each node its own scratch data"
    for name in ("postgres", "minio"):
        assert "healthcheck" in services[name]


def test_the_compose_balancer_sends_to_every_node_and_is_their_trusted_proxy():
    services = compose()["services"]
    balancer = services["balancer"]
    (mount,) = balancer["volumes"]
    config_path, target = mount.split(":")[:2]
    assert target == "/etc/nginx/nginx.conf"
    config = (INFRA / config_path).resolve().read_text()
    upstreams = re.findall(r"^\s*server (\S+):(\d+) ", config, re.MULTILINE)
    nodes = compose_nodes()
    assert {host for host, _ in upstreams} == set(nodes) == set(balancer["depends_on"])
    assert {port for _, port in upstreams} == {node["environment"]["HLS_PORT"] for node in nodes.values()}
    (published,) = balancer["ports"]
    (listen,) = re.findall(r"^\s*listen (\d+);", config, re.MULTILINE)
    assert published.startswith("127.0.0.1:") and published.endswith(f":{listen}")
    address = balancer["networks"]["default"]["ipv4_address"]
    assert {node["environment"]["HLS_TRUSTED_PROXIES"] for node in nodes.values()} == {address}


def test_the_dockerfile_runs_as_non_root_exposes_the_port_and_checks_a_real_route():
    dockerfile = (REPO / "Dockerfile").read_text()
    port = re.search(r"HLS_PORT=(\d+)", dockerfile).group(1)
    assert re.search(rf"^EXPOSE {port}$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER (?!root|0\b)\S+", dockerfile, re.MULTILINE)
    (health,) = re.findall(rf"http://127\.0\.0\.1:{port}(/\w+)", dockerfile)
    assert health in app_paths()
    assert "node_modules/hls.js/dist" in dockerfile
    assert (REPO / ".dockerignore").is_file()
