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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Long files first: the book's pages and the files with a ``slow`` test, then the rest.

    `make test` hands whole files to its two workers in this order (``--dist loadfile
    --no-loadscope-reorder``): with the long files dealt out first and the many short ones
    last, the workers finish together instead of one running a long file alone at the end.
    A file keeps its own order.
    """
    long_files = {
        item.path for item in items if item.path.suffix == ".ipynb" or item.get_closest_marker("slow")
    }
    items.sort(key=lambda item: item.path not in long_files)


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
