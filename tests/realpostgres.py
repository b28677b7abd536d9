"""A real Postgres for the tests: a throwaway server on 127.0.0.1, bounded in time.

The server is Debian's (``scripts/install-postgres``), initialised in a temporary
directory with durability off (a test database needs no fsync), listening on loopback
only with ``trust`` authentication for its one user, and stopped after the session.
Postgres refuses to run as root: as root it runs as the package's ``postgres`` user.
Without the package the tests using it are skipped with the reason, except in CI (the
``CI`` variable set), where they fail.

Test modules import the fixture: ``from realpostgres import postgres``; each test gets a
database of its own from ``postgres.new_database()``.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
BIN = Path(_BIN[-1]) if _BIN else None
USER = "kettle"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Postgres:
    """One running server; ``new_database()`` gives each test an empty database."""

    def __init__(self, directory: Path, port: int, as_user: list[str]) -> None:
        self.directory = directory
        self.port = port
        self.as_user = as_user
        self._names = itertools.count(1)

    def run(self, tool: str, *args: str) -> None:
        assert BIN is not None
        subprocess.run(
            [*self.as_user, str(BIN / tool), *args],
            check=True,
            capture_output=True,
            timeout=60,
            cwd=self.directory,
        )

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """An empty database of its own; its SQLAlchemy (asyncpg) URL."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return self.url(name)


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    assert BIN is not None
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with tempfile.TemporaryDirectory(prefix="kettle-pg-") as tmp:
        directory = Path(tmp)
        data = directory / "data"
        if owner is not None:
            os.chown(directory, owner.pw_uid, owner.pw_gid)
        port = _free_port()
        server = Postgres(directory, port, as_user)
        server.run("initdb", "-D", str(data), "-U", USER, "-A", "trust", "--no-sync", "-E", "UTF8")
        log = directory / "server.log"
        command = [
            *as_user, str(BIN / "postgres"), "-D", str(data), "-p", str(port),
            "-k", str(directory), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ]  # fmt: skip
        with log.open("ab") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"postgres exited: {log.read_text()}")
                done = subprocess.run(
                    [str(BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", USER],
                    capture_output=True,
                    timeout=10,
                )
                if done.returncode == 0:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres did not come up: {log.read_text()}")
                time.sleep(0.1)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
            shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A Postgres server for the whole test session."""
    if BIN is None:
        reason = "postgresql is not installed: run scripts/install-postgres"
        if os.environ.get("CI"):
            pytest.fail(f"the Postgres tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    with running_postgres() as server:
        yield server
