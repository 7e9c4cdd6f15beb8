"""Shared fixtures: where the repository is, and how to run its tools."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def tool_env() -> dict[str, str]:
    """The environment for running the venv's command-line tools (nbgrader calls `alembic`)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONHASHSEED"] = "0"
    env["MPLBACKEND"] = "Agg"
    return env


# The torch side's tests use tiny tensors: one thread is fastest there, and it
# does not fight the other test process for 2 cores.
ONE_TORCH_THREAD = ("tests/nn/", "tests/models/", "tests/test_training.py", "tests/test_checks_torch.py")


@pytest.fixture(autouse=True)
def _one_torch_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    if not request.path.relative_to(REPO).as_posix().startswith(ONE_TORCH_THREAD):
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
