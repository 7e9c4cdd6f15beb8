"""Serve MathJax 3 from the built site itself, so that maths renders offline.

The browser bundle comes from the PyPI package ``django-static-mathjax``
(imported as ``mathjax``), which ships MathJax 3's ``es5`` folder: the
loader, fonts and every TeX extension that pages load on demand. At build
time what the pages use of it (``SHIPPED``) is staged under
``_build/offline_mathjax/mathjax`` and passed
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


#: What the site ships of the bundle (24 MB in all): the combined component the pages load,
#: its CHTML fonts, the TeX extensions it loads on demand (autoload), and what MathJax's menu
#: loads when a reader turns its accessibility tools on (ui/, a11y/, sre/). The other
#: combined components, the SVG output, the MathML and AsciiMath inputs are never loaded.
SHIPPED = ("tex-mml-chtml.js", "output/chtml/fonts/woff-v2", "input/tex/extensions", "ui", "a11y", "sre")


def stage_mathjax(app: Sphinx, config: Config) -> None:
    staging = Path(app.outdir).parent / "offline_mathjax"
    target = staging / "mathjax"
    stamp = target / ".shipped"
    if not stamp.is_file() or stamp.read_text() != "\n".join(SHIPPED):
        shutil.rmtree(staging, ignore_errors=True)
        bundle = mathjax_bundle()
        for part in SHIPPED:
            if (bundle / part).is_dir():
                shutil.copytree(bundle / part, target / part)
            else:
                (target / part).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(bundle / part, target / part)
        stamp.write_text("\n".join(SHIPPED))
    config.html_extra_path = [*config.html_extra_path, str(staging)]


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", stage_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
