"""The Validate button of the learners' JupyterLab: the report of ``make validate``, in its dialog.

nbgrader's JupyterLab extension draws the button and its dialog; its server
side (``nbgrader.server_extensions.validate_assignment``) would list every
failing cell with its whole source and traceback and no points. This server
extension takes the same two addresses instead (``jupyter/`` switches
nbgrader's off and this one on, for ``make lab``): ``POST
/assignments/validate`` runs ``python -m rnncourse.autograder.validate`` on
the notebook, in a process of its own started in the notebook server's root
(so the report names the notebook by its path there, never the learner's
home), and answers with that report: each part passed or FAILED with its
points, a failed part's message under it, the total last.

The dialog shows an answer's ``failed`` entries, each under the words "The
following cell failed:", the entry's ``source`` as text and its ``error`` as
HTML. The answer is one entry whose ``error`` is the whole report; a style
element in it hides those words and the empty source and lets the report wrap
(a browser applies a style element set through innerHTML; it runs no script).
"""

from __future__ import annotations

import asyncio
import html
import json
import sys
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

#: Hides the dialog's "The following cell failed:" and the empty source; the report wraps.
STYLE = (
    "<style>"
    "#validation-message > div:nth-child(-n+2) { display: none; }"
    "#validation-message pre { white-space: pre-wrap; overflow-wrap: break-word; margin: 0; }"
    "#validation-message .rnncourse-failed { color: var(--jp-error-color1, #d32f2f); font-weight: bold; }"
    "</style>"
)


def report_html(report: str) -> str:
    """The report as the dialog's HTML: escaped, each FAILED line in bold red."""
    lines = [
        f'<span class="rnncourse-failed">{html.escape(line)}</span>'
        if line.startswith("FAILED")
        else html.escape(line)
        for line in report.splitlines()
    ]
    return STYLE + "\n".join(lines)


def answer(report: str) -> dict[str, Any]:
    """What nbgrader's dialog reads: one "failed" entry that carries the whole report."""
    return {"success": True, "value": {"failed": [{"source": "", "error": report_html(report)}]}}


async def validate(root: Path, relative: str) -> dict[str, Any]:
    """Run ``python -m rnncourse.autograder.validate relative`` in ``root``; the dialog's answer."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rnncourse.autograder.validate",
        relative,
        cwd=root,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    if process.returncode not in (0, 1):
        return {"success": False, "value": (stderr or stdout).decode(errors="replace")}
    return answer(stdout.decode(errors="replace"))


class ValidateHandler(JupyterHandler):  # type: ignore[misc]
    """``POST /assignments/validate`` with the notebook's path (relative to the server's root)."""

    @web.authenticated  # type: ignore[misc]
    async def post(self) -> None:
        try:
            relative = self.get_argument("path")
        except web.MissingArgumentError:
            relative = str((self.get_json_body() or {}).get("path", ""))
        root = Path(self.settings["server_root_dir"]).resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or target.suffix != ".ipynb":
            raise web.HTTPError(403, "only a notebook under the server's root can be validated")
        self.finish(json.dumps(await validate(root, str(target.relative_to(root)))))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from nbgrader.server_extensions.validate_assignment.handlers import NbGraderVersionHandler

    web_app = serverapp.web_app
    web_app.settings["server_root_dir"] = serverapp.root_dir
    base = web_app.settings["base_url"]
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "/assignments/validate"), ValidateHandler),
            (url_path_join(base, "/nbgrader_version"), NbGraderVersionHandler),
        ],
    )
    serverapp.log.info("rnncourse: the Validate button shows make validate's report")
