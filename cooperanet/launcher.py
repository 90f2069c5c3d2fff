"""`make run`: the whole platform on one machine, from nothing.

Starts the embedded PostgreSQL and Valkey (unless ``DATABASE_URL`` / ``REDIS_URL`` are set),
migrates, loads the demo data on the first start, then runs the web server, a Celery worker
and Celery beat side by side until Ctrl-C, which stops all of them and the servers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from cooperanet.embedded import DATA_DIR, services

PYTHON = sys.executable


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], env=env, check=True)


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C and a service manager's SIGTERM both stop everything cleanly, even where the
    # shell started us with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    port = os.environ.get("PORT", "8000")
    with services() as service_env:
        env = {**os.environ, "DJANGO_ENV": os.environ.get("DJANGO_ENV", "development")}
        env.update(service_env)
        _manage(env, "migrate", "--noinput")
        seeded_marker = DATA_DIR / "demo-seeded"
        if not seeded_marker.exists():
            seed_args = ["seed_demo"]
            if os.environ.get("DEMO_PASSWORD"):
                seed_args += ["--password", os.environ["DEMO_PASSWORD"]]
            _manage(env, *seed_args)
            seeded_marker.write_text("seed_demo ran; delete this file to run it again.\n")

        celery = [PYTHON, "-m", "celery", "--app", "cooperanet", "--quiet"]
        commands = {
            # migrate just ran the system checks.
            "web": [
                PYTHON,
                "manage.py",
                "runserver",
                f"127.0.0.1:{port}",
                "--noreload",
                "--skip-checks",
            ],
            "worker": [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"],
            "beat": [
                *celery,
                "beat",
                "--loglevel",
                "INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--pidfile",
                "",
            ],
        }
        # The web server starts first, so that on two cores the first page is not kept
        # waiting by the worker and beat loading Django beside it.
        children = {"web": subprocess.Popen(commands.pop("web"), env=env)}
        try:
            _wait_for_port(int(port), children["web"])
            print(
                f"\nCooperaNet is serving http://127.0.0.1:{port}/ (Ctrl-C stops it)\n", flush=True
            )
            for name, command in commands.items():
                children[name] = subprocess.Popen(command, env=env)
            while all(child.poll() is None for child in children.values()):
                time.sleep(0.5)
            stopped = [name for name, child in children.items() if child.poll() is not None]
            print(f"{', '.join(stopped)} stopped; stopping the rest.", file=sys.stderr)
            code = 1
        except KeyboardInterrupt:
            code = 0
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children.values():
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
