"""Real PostgreSQL and Redis servers on loopback for the tests that need them.

Each is started in a temporary folder on a free port and stopped after the test
session; nothing else on the machine is touched. ``make test`` installs Redis from
Debian's packages (PostgreSQL 15 is on the image); without the binaries the tests that
need a server skip, saying which binary is missing.

PostgreSQL refuses to run as root, so under root the cluster is made and started as
the ``postgres`` system user (``runuser``), in a folder that user owns.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from beacon.stack import free_port

#: Where Debian puts the server binaries (not on PATH).
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def _wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout_s:g} s")


@dataclass(frozen=True)
class Server:
    """A running server: its URL (no password: loopback, trust authentication)."""

    url: str
    port: int


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob(POSTGRES_BIN_GLOB))
    return Path(found[-1]) if found and (Path(found[-1]) / "initdb").exists() else None


def skip_without_postgres() -> Path:
    """The PostgreSQL binaries' folder, or skip the test saying what is missing."""
    folder = _postgres_bin()
    if folder is None:
        pytest.skip(f"no PostgreSQL server binaries ({POSTGRES_BIN_GLOB}/initdb)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: PostgreSQL cannot be started")
    return folder


def skip_without_redis() -> str:
    """The redis-server binary, or skip the test saying what is missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server (make test installs Debian's redis-server)")
    return binary


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr[-2000:]}")


@contextmanager
def postgres_server(database: str = "beacon") -> Iterator[Server]:
    """A throwaway PostgreSQL cluster on a free loopback port, with ``database``.

    Its folder is made directly under the system's temporary folder, because the
    ``postgres`` user cannot reach into pytest's (mode 700, root's) folders.
    """
    binaries = skip_without_postgres()
    folder = Path(tempfile.mkdtemp(prefix="beacon-postgres-"))
    data = folder / "pgdata"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    _run([*as_user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "beacon"])
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    _run(
        [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-t", "60",
         "-l", str(folder / "postgres.log"), "start"]
    )  # fmt: skip
    try:
        _run(
            [str(binaries / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "beacon",
             "-d", "postgres", "-c", f"CREATE DATABASE {database}"]
        )  # fmt: skip
        yield Server(f"postgresql://beacon@127.0.0.1:{port}/{database}", port)
    finally:
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


def psql_rows(server: Server, sql: str) -> list[list[str]]:
    """Rows of ``sql`` on ``server``'s database, as text, read with ``psql``: what an operator
    would see, independent of the driver the code under test uses."""
    binaries = skip_without_postgres()
    database = server.url.rsplit("/", 1)[-1]
    result = subprocess.run(
        [str(binaries / "psql"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "beacon",
         "-d", database, "-At", "-F", "\t", "-c", sql],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return [line.split("\t") for line in result.stdout.splitlines()]


@contextmanager
def redis_server(folder: Path) -> Iterator[Server]:
    """A Redis server on a free loopback port, its files in ``folder``, no persistence."""
    binary = skip_without_redis()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_port(port)
        yield Server(f"redis://127.0.0.1:{port}/0", port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
