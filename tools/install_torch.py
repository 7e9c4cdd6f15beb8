"""Install PyTorch's CPU build into the course's environment, and never its CUDA packages.

    python tools/install_torch.py [--python PY] [--cpu-index URL] [--dry-run]

`pip install torch==2.13.0` from PyPI takes, on Linux, the CUDA build, whose
dependencies are several GB of NVIDIA packages the course never uses. So
requirements.lock pins torch on a line of its own that pip does not read
(``# cpu-build: torch==X``), and this script installs that pin after the rest
of the lock (which pins torch's pure-Python dependencies), with ``--no-deps``:

1. the CPU build (``torch==X+cpu``) from PyTorch's CPU wheel index: one
   look-up, no retries, a 5 s timeout, so an unreachable index costs seconds;
2. where that fails (no network to that index, or no ``+cpu`` wheel for this
   platform, as on macOS), ``torch==X`` from the registry pip is set up for.

Then it checks that torch imports (PyPI's Linux wheel does not without its
NVIDIA packages: the message says what to do) and that ``pip list`` holds no
``nvidia-*`` package.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# The line of requirements.lock that pins torch; pip reads it as a comment.
PIN_LINE = re.compile(r"^# cpu-build: (torch==[0-9][^\s+]*)$", re.M)
# The first attempt must fail fast when the index is out of reach.
FAST = ["--retries", "0", "--timeout", "5"]


def torch_pin(lock: Path) -> str:
    """The ``torch==X`` pin of requirements.lock's ``# cpu-build:`` line."""
    found = PIN_LINE.findall(lock.read_text())
    if len(found) != 1:
        raise SystemExit(f"{lock}: expected one line '# cpu-build: torch==X', found {len(found)}")
    return found[0]


def pip_install(python: str, args: list[str], dry_run: bool) -> bool:
    # A dry run says where torch would come from in a fresh environment.
    dry = ["--dry-run", "--ignore-installed"] if dry_run else []
    command = [python, "-m", "pip", "install", "--no-deps", *dry, *args]
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, check=False).returncode == 0


def install(python: str, pin: str, cpu_index: str, dry_run: bool) -> str:
    """Install ``pin`` with --no-deps; return which build: "CPU build" or "registry's build"."""
    start = time.monotonic()
    if pip_install(python, [*FAST, "--index-url", cpu_index, f"{pin}+cpu"], dry_run):
        return "CPU build"
    print(
        f"install_torch: no CPU build from {cpu_index} after {time.monotonic() - start:.1f} s "
        f"(unreachable, or no +cpu wheel for this platform): falling back to the registry's {pin}",
        flush=True,
    )
    if pip_install(python, [pin], dry_run):
        return "registry's build"
    raise SystemExit(f"install_torch: {pin} could not be installed from {cpu_index} nor from the registry")


def installed(python: str) -> list[str]:
    listing = subprocess.run(
        [python, "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    )
    return [package["name"].lower() for package in json.loads(listing.stdout)]


def check_no_nvidia(python: str) -> None:
    nvidia = [name for name in installed(python) if name.startswith("nvidia-")]
    if nvidia:
        raise SystemExit(
            f"install_torch: CUDA packages are installed, which the course never uses: {', '.join(nvidia)}"
            f"\n  remove them: {python} -m pip uninstall -y {' '.join(nvidia)}"
        )


def check_import(python: str, pin: str, cpu_index: str) -> None:
    done = subprocess.run(
        [python, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"install_torch: the registry's {pin} is a CUDA build that does not import without its NVIDIA"
            f" packages.\n  Install the CPU build by hand when {cpu_index} is reachable:\n"
            f"  {python} -m pip install --no-deps --force-reinstall --index-url {cpu_index} {pin}+cpu\n"
            + done.stderr[-2000:]
        )
    print(f"install_torch: torch {done.stdout.strip()} imports", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="the environment's interpreter")
    parser.add_argument("--lock", type=Path, default=REPO / "requirements.lock")
    parser.add_argument("--cpu-index", default=CPU_INDEX, help=f"default: {CPU_INDEX}")
    parser.add_argument(
        "--dry-run", action="store_true", help="install nothing, say what a fresh install takes"
    )
    args = parser.parse_args(argv)
    pin = torch_pin(args.lock)
    source = install(args.python, pin, args.cpu_index, args.dry_run)
    print(f"install_torch: {pin}, the {source}", flush=True)
    if not args.dry_run:
        check_import(args.python, pin, args.cpu_index)
    check_no_nvidia(args.python)


if __name__ == "__main__":
    main()
