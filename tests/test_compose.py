"""docker-compose.yml stays consistent with the no-Docker path's settings."""

from __future__ import annotations

from pathlib import Path

import yaml

from server.settings import Settings

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def test_app_environment_names_are_settings() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    fields = {name.upper() for name in Settings.model_fields}
    for service in ("api", "worker"):
        env = compose["services"][service]["environment"]
        unknown = set(env) - fields
        assert not unknown, f"{service} sets variables Settings does not read: {unknown}"


def test_neo4j_image_is_the_supported_release() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    assert compose["services"]["neo4j"]["image"] == "neo4j:5.26-community"
    assert Settings.model_fields["neo4j_version"].default.startswith("5.26.")
