"""The site's own settings and assets, on top of Jupyter Book's.

- The published repository (``repository.url`` in ``_config.yml``, the one place that
  names it and the site, ``html.baseurl``) must be a GitHub repository, since the launch
  buttons (Binder, Colab) need one: a build with anything else stops and says so.
- ``book/_static/`` holds the site's own CSS and JavaScript (phones: equations, tables,
  code and figures scroll inside their own box; a figure opens full size when clicked)
  and its favicon. It is not the book root's ``_static/``, whose every file Jupyter Book
  would inject into every page.
- The site's root ``index.html`` (a redirect to the first page) names the favicon too:
  without it, a browser asks for ``/favicon.ico``, which does not exist (a console error).
- Only what pages use is shipped (``prune_site``): the theme's Font Awesome script (1.5 MB
  on every page, "so that users can add custom icons") goes, since the theme's stylesheet
  already draws every icon from Font Awesome's web fonts, which a browser fetches only for
  a page that shows an icon; so do source maps, the web fonts' TrueType copies (every
  browser the site supports reads WOFF2) and the theme's translation catalogues (read at
  build time).
- Citations read "Elman (1990)" and "(Elman, 1990)": sphinxcontrib-bibtex's author-year
  style with round brackets, registered here as ``author_year_round``.
- MathJax loads on a page with maths of its own only (``drop_unused_assets``), and
  sphinx-thebe's assets are dropped: live code (thebe) is switched off in ``_config.yml``,
  yet its extension still adds its script, stylesheet and an inline configuration twice
  to every page (the second declaration of ``THEBE_JS_URL`` is a console error).
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import shutil
from pathlib import Path
from typing import Any

import yaml
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

STATIC = Path(__file__).resolve().parents[1] / "_static"
CSS_FILES = ["course.css"]
JS_FILES = ["course.js"]


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclasses.dataclass
class RoundAuthorYearStyle(AuthorYearReferenceStyle):
    """Author-year citations in round brackets: Elman (1990), (Elman, 1990)."""

    bracket_parenthetical: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_textual: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_author: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_label: BracketStyle = dataclasses.field(default_factory=_round)
    bracket_year: BracketStyle = dataclasses.field(default_factory=_round)


register_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_round", RoundAuthorYearStyle)


def published_urls(config_file: Path) -> tuple[str, str]:
    """(repository, site): ``repository.url`` and ``html.baseurl`` of the book's ``_config.yml``."""
    config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    repository = str((config.get("repository") or {}).get("url", ""))
    site = str((config.get("html") or {}).get("baseurl", ""))
    if not repository.startswith("https://github.com/") or len(repository.rstrip("/").split("/")) != 5:
        raise ExtensionError(
            f"{config_file}: repository.url must be https://github.com/<owner>/<name> "
            f"(the launch buttons need a GitHub repository), got {repository!r}"
        )
    if not site.startswith("https://"):
        raise ExtensionError(f"{config_file}: html.baseurl must be the published site's https:// address")
    return repository.rstrip("/"), site.rstrip("/") + "/"


def configure(app: Sphinx, config: Config) -> None:
    published_urls(Path(app.confdir) / "_config.yml")
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    for name in CSS_FILES:
        app.add_css_file(name)
    for name in JS_FILES:
        app.add_js_file(name, loading_method="defer")


def _is_thebe(asset: Any) -> bool:
    filename = getattr(asset, "filename", asset) or ""
    body = getattr(asset, "attributes", {}).get("body", "") if not isinstance(asset, str) else ""
    return "thebe" in str(filename) or "THEBE_JS_URL" in str(body)


def _is_mathjax(asset: Any, config: Config) -> bool:
    filename = str(getattr(asset, "filename", asset) or "")
    path = str(config.mathjax_path or "")
    return bool(path) and filename in (path, posixpath.join("_static", path))  # as Sphinx adds it


def drop_unused_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Leave out thebe's assets, and MathJax on a page without maths of its own.

    Sphinx loads MathJax on a page whose toctree includes a page with maths: the landing
    page, whose table of contents holds every chapter, would load 1.2 MB for nothing.
    """
    own_maths = app.env.get_domain("math").data["has_equations"].get(pagename, False)
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [
                asset
                for asset in context[key]
                if not _is_thebe(asset) and (own_maths or not _is_mathjax(asset, app.config))
            ]


REDIRECT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Refresh" content="0; url={target}">
<link rel="icon" href="_static/{favicon}">
<title>{title}</title>
</head>
<body><p><a href="{target}">{title}</a></p></body>
</html>
"""


def write_root_redirect(app: Sphinx, exception: Exception | None) -> None:
    """The root index.html: a redirect to the first page (sphinx-external-toc's, with the favicon)."""
    index = Path(app.outdir) / "index.html"
    if exception is not None or app.builder.format != "html" or index.exists():
        return
    target = f"{str(app.config.root_doc).removesuffix('.md').removesuffix('.ipynb')}.html"
    favicon = Path(str(app.config.html_favicon or "favicon.svg")).name
    index.write_text(
        REDIRECT.format(target=target, favicon=favicon, title=app.config.html_title or app.config.project),
        encoding="utf-8",
    )


FONTAWESOME_SCRIPT = re.compile(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>')
UNUSED = ("scripts/fontawesome.js*", "**/*.map", "vendor/fontawesome/webfonts/*.ttf")


def prune_site(app: Sphinx, exception: Exception | None) -> None:
    """Drop from the built site what no page loads (see the module's docstring)."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        pruned = FONTAWESOME_SCRIPT.sub("", text)
        if pruned != text:
            page.write_text(pruned, encoding="utf-8")
    static = out / "_static"
    for pattern in UNUSED:
        for path in static.glob(pattern):
            path.unlink()
    shutil.rmtree(static / "locales", ignore_errors=True)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", configure)
    app.connect("html-page-context", drop_unused_assets, priority=900)
    app.connect("build-finished", write_root_redirect, priority=400)  # before sphinx-external-toc's
    app.connect("build-finished", prune_site, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
