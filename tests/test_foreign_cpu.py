"""The numerical tests pass on other CPUs too: rerun them with OpenBLAS pretending to be one.

OpenBLAS picks its kernels, and so the order in which a matrix product adds
its terms, by CPU. The low bits of every product, and of every gradient
check built on them, differ between machines; a tolerance that only holds on
the machine it was tuned on fails on someone else's (it did, on an AMD EPYC).
``OPENBLAS_CORETYPE`` makes OpenBLAS use another CPU's kernels, so the
suite itself can try the tests of the NumPy code the way an older (Prescott:
SSE3 only) and a different recent (Haswell: AVX2) CPU runs them.

Each run is a fresh ``python -m pytest`` process (the variable is read when
OpenBLAS loads). It does not include this file, and a guard variable stops
any recursion all the same.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a whole pytest run per CPU

REPO = Path(__file__).resolve().parents[1]
GUARD = "RNNCOURSE_FOREIGN_CPU_RUN"

# Every test of the NumPy and torch code, on the CPU that runs them the most
# differently from a recent one; and on Haswell, the gradient checks, where
# the low bits matter most.
RUNS = {
    "Prescott": [
        "tests/scratch",
        "tests/nn",
        "tests/models",
        "tests/test_training.py",
        "tests/test_checks.py",
        "tests/test_checks_torch.py",
        "tests/test_gradcheck.py",
    ],
    "Haswell": [
        "tests/scratch",
        "tests/test_checks.py",
        "tests/test_gradcheck.py",
        "-k",
        "gradient or truncat or caught or reject",
    ],
}


@functools.cache
def corename(coretype: str) -> str:
    """The kernel set NumPy's OpenBLAS uses under ``OPENBLAS_CORETYPE=coretype`` ("" if none is found)."""
    probe = (
        "import ctypes, numpy\n"
        "maps = open('/proc/self/maps').read().split()\n"
        "libs = sorted({p for p in maps if 'openblas' in p and '.so' in p})\n"
        "lib = ctypes.CDLL(libs[0]) if libs else None\n"
        "for fn in ('openblas_get_corename', 'scipy_openblas_get_corename64_', 'scipy_openblas_get_corename'):\n"
        "    if lib is not None and hasattr(lib, fn):\n"
        "        f = getattr(lib, fn); f.restype = ctypes.c_char_p; print(f().decode()); break\n"
    )
    env = dict(os.environ, OPENBLAS_CORETYPE=coretype)
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    return result.stdout.strip()


@pytest.mark.skipif(os.environ.get(GUARD) == "1", reason="already inside a foreign-CPU run")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find OpenBLAS")
@pytest.mark.parametrize("coretype", list(RUNS))
def test_numerical_tests_pass_on_a_foreign_cpu(coretype: str) -> None:
    if not corename(""):
        pytest.skip("NumPy does not use OpenBLAS here")
    if corename("") == corename(coretype):
        pytest.skip(f"this CPU already runs OpenBLAS's {coretype} kernels")
    env = dict(os.environ, OPENBLAS_CORETYPE=coretype, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env[GUARD] = "1"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        "-o",
        "addopts=",
        *RUNS[coretype],
    ]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"with OPENBLAS_CORETYPE={coretype} the numerical tests fail:\n{result.stdout[-8000:]}\n{result.stderr[-2000:]}"
    )
