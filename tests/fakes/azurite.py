"""Start Azurite's blob service (npm, ``node_modules/.bin/azurite-blob``) for tests and benchmarks.

On a free port, in memory, with ``--skipApiVersionCheck`` (azure-storage-blob
speaks a newer API version than Azurite accepts) and ``--loose``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "devstoreaccount1"
# Azurite's published development key (not a secret: the same in every Azurite install).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class AzuriteUnavailable(Exception):
    pass


@dataclass
class Azurite:
    process: subprocess.Popen
    port: int
    workdir: str

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint={self.blob_endpoint};"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start() -> Azurite:
    if not BINARY.exists() or shutil.which("node") is None:
        raise AzuriteUnavailable(f"{BINARY} or node is missing (run npm install)")
    workdir = tempfile.mkdtemp(prefix="azurite-")
    port = _free_port()
    process = subprocess.Popen(
        [
            str(BINARY),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=workdir,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode(errors="replace")[-500:] if process.stderr else ""
            shutil.rmtree(workdir, ignore_errors=True)
            raise AzuriteUnavailable(f"azurite-blob exited: {error}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Azurite(process, port, workdir)
        except OSError:
            time.sleep(0.05)
    process.kill()
    shutil.rmtree(workdir, ignore_errors=True)
    raise AzuriteUnavailable("azurite-blob did not start within 30 s")
