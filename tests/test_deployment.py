"""docker-compose.yml, the Dockerfile and .env.example checked against the app's real entry points and
settings (no Docker engine runs in CI, so this reading is their test)."""

import re

import pytest
import yaml

from leads import config
from leads.config import PROJECT_ROOT
from leads.queue import WORKER_FLAGS

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()


def settings_read_by_the_app() -> set[str]:
    source = (PROJECT_ROOT / "leads" / "config.py").read_text()
    return set(re.findall(r'_env(?:_bool)?\("([A-Z_]+)"', source)) | set(
        re.findall(r'os\.environ\.get\("([A-Z_]+)"', source)
    )


def documented_settings() -> set[str]:
    lines = (PROJECT_ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def test_every_service_the_design_names_is_there_with_a_healthcheck():
    assert set(SERVICES) == {"postgres", "redis", "mailpit", "migrate", "web", "worker", "beat"}
    for name, service in SERVICES.items():
        if name != "migrate":
            assert "healthcheck" in service, name


@pytest.mark.parametrize(
    ("service", "command"),
    [
        ("web", ["gunicorn", "leads:create_app()"]),
        ("worker", ["celery", "-A", "worker", "worker"]),
        ("beat", ["celery", "-A", "worker", "beat"]),
        ("migrate", ["flask", "--app", "leads", "db", "upgrade"]),
    ],
)
def test_services_run_the_contracts_entry_points(service, command):
    assert SERVICES[service]["command"][: len(command)] == command


def test_the_dockerfile_runs_the_web_entry_point_as_a_non_root_user():
    cmd = re.search(r"^CMD (.+)$", DOCKERFILE, re.MULTILINE).group(1)
    assert yaml.safe_load(cmd)[:2] == SERVICES["web"]["command"][:2]
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, re.MULTILINE)
    for folder in ("leads", "worker", "templates", "static", "migrations"):
        assert f"COPY {folder} ./{folder}" in DOCKERFILE


def test_the_compose_worker_runs_with_the_flags_the_local_stack_uses():
    assert set(WORKER_FLAGS) <= set(SERVICES["worker"]["command"])


def test_web_starts_only_after_migrations_and_healthy_services():
    depends = SERVICES["web"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["redis"]["condition"] == "service_healthy"


def test_redis_keeps_queued_sends_across_a_restart():
    assert "--appendonly" in SERVICES["redis"]["command"]
    assert SERVICES["redis"]["volumes"]


def test_env_example_documents_exactly_the_settings_the_app_reads():
    assert documented_settings() == settings_read_by_the_app() - {"LEADS_INSTANCE_PATH"}


def test_compose_passes_only_settings_the_app_reads():
    environment = SERVICES["web"]["environment"]
    assert set(environment) <= settings_read_by_the_app()


def test_the_compose_defaults_parse_as_the_app_expects():
    environment = {
        key: re.sub(r"\$\{\w+:-(.*)\}", r"\1", value) for key, value in SERVICES["web"]["environment"].items()
    }
    assert config._normalise_database_url(environment["DATABASE_URL"]).startswith("postgresql+psycopg://")
    assert environment["REDIS_URL"].startswith("redis://redis:")
