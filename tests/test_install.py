"""tools/install_torch.py takes torch's CPU build, falls back fast, and installs no CUDA package.

Real pip runs with ``--dry-run`` (nothing is installed) against local
indexes made here, with the machine's pip configuration switched off, so
the tests need no network: the CPU index is either a local folder with a
``+cpu`` wheel, or a closed port on the loopback (http://127.0.0.1:9/).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "tools" / "install_torch.py"
CLOSED_PORT = "http://127.0.0.1:9/"
LOCK = "numpy==2.4.6\n# cpu-build: torch==2.13.0\n"


def fake_wheel(folder: Path, version: str) -> Path:
    """A tiny wheel named torch at ``version``: all that pip's resolver reads."""
    dist_info = f"torch-{version}.dist-info"
    wheel = folder / f"torch-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("torch/__init__.py", "")
        archive.writestr(f"{dist_info}/METADATA", f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n")
        archive.writestr(
            f"{dist_info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{dist_info}/RECORD", "")
    return wheel


def simple_index(root: Path, version: str) -> str:
    """A one-package PEP 503 index in ``root`` serving torch at ``version``; its file:// URL."""
    project = root / "torch"
    project.mkdir(parents=True)
    wheel = fake_wheel(project, version)
    href = wheel.name.replace("+", "%2B")
    (project / "index.html").write_text(f'<html><body><a href="{href}">{wheel.name}</a></body></html>\n')
    return root.as_uri()


def run(tmp_path: Path, cpu_index: str, registry: str) -> tuple[subprocess.CompletedProcess[str], float]:
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=registry, PIP_DISABLE_PIP_VERSION_CHECK="1")
    command = [sys.executable, str(SCRIPT), "--lock", str(lock), "--cpu-index", cpu_index, "--dry-run"]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    return done, time.monotonic() - start


def test_the_cpu_build_comes_from_the_cpu_index(tmp_path: Path) -> None:
    cpu_index = simple_index(tmp_path / "cpu", "2.13.0+cpu")
    registry = simple_index(tmp_path / "registry", "2.13.0")
    done, _ = run(tmp_path, cpu_index, registry)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Would install torch-2.13.0+cpu" in done.stdout, done.stdout
    assert "falling back" not in done.stdout
    assert "torch==2.13.0, the CPU build" in done.stdout


def test_an_unreachable_cpu_index_falls_back_to_the_registry_within_10_s(tmp_path: Path) -> None:
    registry = simple_index(tmp_path / "registry", "2.13.0")
    done, seconds = run(tmp_path, CLOSED_PORT, registry)
    assert done.returncode == 0, done.stdout + done.stderr
    # One quick look-up first: no retries, a short timeout, the CPU build only.
    first = next(line for line in done.stdout.splitlines() if line.startswith("+ "))
    assert f"--index-url {CLOSED_PORT}" in first and "--retries 0" in first and "--timeout 5" in first
    assert first.endswith("torch==2.13.0+cpu")
    assert "falling back to the registry's torch==2.13.0" in done.stdout
    assert "Would install torch-2.13.0" in done.stdout and "+cpu" not in done.stdout.split("falling back")[1]
    assert seconds < 10, f"the fallback took {seconds:.1f} s"
    commands = [line for line in done.stdout.splitlines() if line.startswith("+ ")]
    assert len(commands) == 2 and all(" install --no-deps " in c for c in commands), commands


def test_no_torch_anywhere_fails_with_a_message(tmp_path: Path) -> None:
    empty_registry = tmp_path / "empty"
    empty_registry.mkdir()
    done, _ = run(tmp_path, CLOSED_PORT, empty_registry.as_uri())
    assert done.returncode != 0
    assert "torch==2.13.0 could not be installed" in done.stderr


def test_the_pin_is_read_from_the_lock_line_pip_skips(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from install_torch import torch_pin
    finally:
        sys.path.remove(str(SCRIPT.parent))
    lock = tmp_path / "requirements.lock"
    lock.write_text(LOCK)
    assert torch_pin(lock) == "torch==2.13.0"
    lock.write_text("numpy==2.4.6\ntorch==2.13.0\n")
    with pytest.raises(SystemExit, match="cpu-build"):
        torch_pin(lock)
