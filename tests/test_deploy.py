"""Production settings, `check --deploy`, and the docker-compose stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 30 + "-a-long-random-production-key-for-the-test-only-9f8e7d",
    "ALLOWED_HOSTS": "cooperanet.example.org",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.org:587",
    "SITE_URL": "https://cooperanet.example.org",
}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_URL"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _run(["manage.py", "check"], **env)
    assert result.returncode == 1
    assert f"{missing} must be set in production" in result.stderr


def test_debug_cannot_be_on_in_production():
    result = _run(["manage.py", "check"], **PRODUCTION, DJANGO_DEBUG="1")
    assert result.returncode == 1
    assert "DJANGO_DEBUG cannot be on in production" in result.stderr


def test_the_wsgi_entry_point_defaults_to_production():
    env = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k != "DJANGO_ENV"}
    result = subprocess.run(
        [sys.executable, "-c", "import cooperanet.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "SECRET_KEY must be set in production" in result.stderr


def test_check_deploy_gives_no_warning():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "DEBUG"], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def test_production_headers():
    code = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0,"
        " s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src'])"
    )
    result = _run(
        [
            "-c",
            "import django, os;"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'cooperanet.settings');"
            f"django.setup(); {code}",
        ],
        **PRODUCTION,
    )
    assert result.stdout.strip() == "False True True True [\"'self'\"]"


class TestCompose:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    def test_valid_against_the_compose_specification(self):
        schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
        jsonschema.Draft7Validator(schema).validate(self.compose)

    def test_services_and_commands(self):
        services = self.compose["services"]
        assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
        assert services["postgres"]["image"] == "postgres:16"
        assert services["redis"]["image"] == "redis:7"
        assert services["web"]["command"][:2] == ["gunicorn", "cooperanet.wsgi:application"]
        assert services["worker"]["command"][:4] == ["celery", "--app", "cooperanet", "worker"]
        assert services["beat"]["command"][:4] == ["celery", "--app", "cooperanet", "beat"]
        assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]

    def test_redis_evicts_only_what_expires(self):
        """Broker and cache share Redis: under its memory limit it may evict the cache's
        entries (which expire), never Celery's queues (which do not), here and embedded."""
        from django.core.cache import cache

        from cooperanet.embedded import REDIS_MEMORY

        command = self.compose["services"]["redis"]["command"]
        policy = command[command.index("--maxmemory-policy") + 1]
        assert policy == REDIS_MEMORY["maxmemory-policy"] == "volatile-lru"
        assert command[command.index("--maxmemory") + 1] == REDIS_MEMORY["maxmemory"]
        # The server the tests run on is the embedded one, started with that configuration.
        client = cache._cache.get_client()
        assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "volatile-lru"}
        assert client.config_get("maxmemory") == {"maxmemory": str(256 * 1024 * 1024)}

    def test_commands_name_real_things(self):
        """The Celery app, the beat scheduler and the WSGI module the commands name exist."""
        from importlib import import_module

        from cooperanet.celery import app

        assert app.main == "cooperanet"
        scheduler = self.compose["services"]["beat"]["command"][-1]
        module, _, name = scheduler.partition(":")
        assert hasattr(import_module(module), name)
        assert (ROOT / "Dockerfile").exists()
        assert (ROOT / "cooperanet" / "wsgi.py").exists()

    def test_settings_come_from_the_environment(self):
        for name in ("web", "worker", "beat", "migrate"):
            env = self.compose["services"][name]["environment"]
            assert env["DJANGO_ENV"] == "production"
            assert env["SECRET_KEY"].startswith("${SECRET_KEY")
            assert env["DATABASE_URL"].startswith("postgres://")
            assert env["REDIS_URL"] == "redis://redis:6379/0"
