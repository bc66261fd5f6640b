"""A real `cxbot serve` subprocess on a loopback port, for tests that attack it from outside:
blocking raw-socket requests, its log file, its RSS, and how long SIGTERM takes to stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.kit.rawhttp import RawAnswer, parse_answer, request_bytes
from tests.kit.support import free_port


def exchange(port: int, raw: bytes, timeout: float = 15.0) -> RawAnswer | None:
    """Send `raw`, read until the server closes; the final answer (1xx skipped), or None when
    the server closed without answering."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it answered (and closed) before reading everything: read what it said
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    data = b"".join(chunks)
    while data.startswith(b"HTTP/1.1 1"):  # 100 Continue, then the real answer
        data = data.partition(b"\r\n\r\n")[2]
    return parse_answer(data) if data else None


def get(port: int, path: bytes, timeout: float = 15.0) -> RawAnswer | None:
    return exchange(port, request_bytes(b"GET", path, []), timeout)


@dataclass
class LiveServer:
    config: Path
    env: Mapping[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        cmd = [sys.executable, "-m", "cxbot", "serve", "--config", str(self.config)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, env=dict(self.env), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited:\n{self.log()}")
            try:
                answer = get(self.port, b"/healthz", timeout=2)
                if answer is not None and answer.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve did not become healthy:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def rss_kib(self) -> int:
        """Resident memory of the server process (VmRSS), in KiB."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self, timeout: float = 60.0) -> float:
        """SIGTERM and wait; the seconds it took to exit."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"serve did not stop within {timeout} s of SIGTERM") from None
        return time.monotonic() - started


def serve_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment without the runner's own cxbot/Slack variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CXBOT", "SLACK"))}
    return env | dict(extra)
