"""Serve MathJax 3 from the built site itself, so that maths renders offline.

The browser bundle comes from the PyPI package ``django-static-mathjax``
(imported as ``mathjax``), which ships MathJax 3's ``es5`` folder: the
loader, fonts and every TeX extension that pages load on demand. At build
time the folder is staged under ``_build/offline_mathjax/mathjax`` and passed
to Sphinx through ``html_extra_path``, so it lands at ``<site>/mathjax/``.
It must not go into ``_static/``: Jupyter Book injects every .js/.css file
found there into every page.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError


def mathjax_bundle() -> Path:
    """The folder that holds ``tex-mml-chtml.js`` and everything it loads."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise ExtensionError(
            "MathJax 3 is missing: install the pinned environment (`make book` does), "
            "which includes the package django-static-mathjax."
        )
    bundle = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if not (bundle / "tex-mml-chtml.js").is_file():
        raise ExtensionError(f"no MathJax 3 bundle at {bundle}: reinstall django-static-mathjax")
    return bundle


def stage_mathjax(app: Sphinx, config: Config) -> None:
    staging = Path(app.outdir).parent / "offline_mathjax"
    target = staging / "mathjax"
    if not (target / "tex-mml-chtml.js").is_file():
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(mathjax_bundle(), target)
    config.html_extra_path = [*config.html_extra_path, str(staging)]


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", stage_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
