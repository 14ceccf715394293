"""A Milvus Lite gRPC server of one's own on loopback, for the tests and ``bench scale``: the
engine in a process apart, as a cluster would be, rather than inside the caller's."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from index.errors import VectorEngineError
from index.storage.milvus_dense import MilvusAddress, check_reachable

SERVER = Path(sys.executable).with_name("milvus-lite")
START_SECONDS = 30


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class MilvusServer:
    address: MilvusAddress
    pid: int

    def resident_mb(self) -> float:
        """The server process's resident memory now (Linux /proc), in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextmanager
def milvus_server(data: Path) -> Iterator[MilvusServer]:
    """Start ``milvus-lite server`` over ``data``, wait until it answers, stop it afterwards."""
    port = free_port()
    command = [str(SERVER), "server", "--data-dir", str(data), "--host", "127.0.0.1"]
    server = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    address = MilvusAddress(f"http://127.0.0.1:{port}", timeout=30.0)
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                check_reachable(address)
                break
            except VectorEngineError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield MilvusServer(address, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
