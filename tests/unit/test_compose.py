"""docker-compose.yml and the Dockerfile, checked statically (no Docker engine here)."""

import re
from pathlib import Path

import yaml

from worker.settings import ENV_VARS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
PROJECT_ENV_PREFIXES = ("GBV_", "KAFKA_BOOTSTRAP", "KAFKA_SECURITY", "KAFKA_SASL", "KAFKA_SSL")


def worker_services():
    return {name: svc for name, svc in COMPOSE["services"].items()
            if svc.get("image", "").startswith("gbv-worker") or "build" in svc}


def test_compose_has_the_promised_services():
    assert {"kafka", "create-topics", "worker", "prometheus", "grafana"} <= set(COMPOSE["services"])
    kafka_env = COMPOSE["services"]["kafka"]["environment"]
    assert "controller" in kafka_env["KAFKA_PROCESS_ROLES"]          # KRaft, no ZooKeeper
    worker = COMPOSE["services"]["worker"]
    assert "ports" not in worker, "a fixed host port would stop --scale worker=N"


def test_every_worker_variable_is_read_by_the_settings_object():
    for name, service in worker_services().items():
        env = service.get("environment") or {}
        assert env, f"{name} sets no environment"
        for variable in env:
            assert variable in ENV_VARS, f"{name} sets {variable}, which worker/settings.py does not read"


def test_every_image_is_pinned():
    for name, service in COMPOSE["services"].items():
        image = service.get("image")
        assert image, f"{name} has no image"
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest" and re.match(r"^v?\d+\.\d+", tag), f"{name}: {image} is not pinned"
    base = re.search(r"^FROM\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert re.match(r"^[\w./-]+:\d+\.\d+\.\d+", base), f"Dockerfile base {base} is not pinned"


def test_mounted_files_exist():
    for name, service in COMPOSE["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is missing"


def test_dockerfile_builds_the_detector_extension():
    # The C scans are optional at install time; the image should still have them.
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^COPY .*\bsetup\.py\b", text, re.M)
    assert "gcc" in text
