"""The website: it builds with warnings as errors, hides every solution, needs no network."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import CHROMIUM_FLAGS
from tests.site.leaks import find_leaks, published_text, secret_lines, secret_runs

pytestmark = pytest.mark.slow

CHAPTERS = [
    "ch01_recurrence",
    "ch02_bptt",
    "ch03_vanishing",
    "ch04_lstm",
    "ch05_gru",
    "ch06_embeddings",
    "ch07_seq2seq",
]
CHAPTERS += ["ch08_applications"]
PAGES = [
    "index.html",
    "book/instructors.html",
    *(f"book/{key}.html" for key in CHAPTERS),
    *(f"exercises/{key}/{key}.html" for key in CHAPTERS),
    *(f"book/ch08_applications_{section}.html" for section in ("text", "series", "seq2seq")),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, repo: Path, tool_env: dict[str, str]) -> Path:
    """The website, built from scratch the way `make book` builds it."""
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [
            str(Path(sys.executable).parent / "jupyter-book"),
            "build",
            str(repo),
            "--path-output",
            str(out),
            "-W",
            "-n",
            "--keep-going",
            "--builder",
            "html",
            "--all",
        ],
        env=tool_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    return out / "_build" / "html"


@pytest.fixture(scope="module")
def secrets(repo: Path) -> set[str]:
    lines: set[str] = set()
    for notebook in sorted((repo / "solutions").glob("*/*.ipynb")):
        lines |= secret_lines(notebook)
    published = published_text(repo)
    lines = {line for line in lines if line not in published}
    assert len(lines) > 20, "the search found too few solution lines to be meaningful"
    return lines


def test_every_page_is_built(site: Path) -> None:
    for page in PAGES:
        assert (site / page).is_file(), page


def test_no_solution_or_hidden_test_line_reaches_the_site(site: Path, secrets: set[str]) -> None:
    assert find_leaks(site, secrets) == {}


@pytest.fixture(scope="module")
def runs(repo: Path) -> set[str]:
    found: set[str] = set()
    for notebook in sorted((repo / "solutions").glob("*/*.ipynb")):
        found |= secret_runs(notebook)
    assert len(found) > 50, "the search found too few runs of solution lines to be meaningful"
    return found


def test_no_page_shows_three_consecutive_lines_of_a_solution_or_hidden_test(
    site: Path, runs: set[str]
) -> None:
    """Issue 21, item 8: a part is not passed by copying a page, even where the package publishes its lines."""
    assert find_leaks(site, runs) == {}


def test_the_leak_search_finds_a_published_solution(
    tmp_path: Path, repo: Path, secrets: set[str], tool_env
) -> None:
    """The search must fail when a solution page is published (rendered as the site renders code)."""
    notebook = next((repo / "solutions").glob("*/*.ipynb"))
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", "--output-dir", str(tmp_path), str(notebook)],
        env=tool_env,
        check=True,
        capture_output=True,
    )
    leaks = find_leaks(tmp_path, secrets)
    assert leaks and len(next(iter(leaks.values()))) >= len(secret_lines(notebook) & secrets) // 2
    copied = find_leaks(tmp_path, secret_runs(notebook))
    assert copied and len(next(iter(copied.values()))) >= len(secret_runs(notebook)) // 2


EXTERNAL = re.compile(
    r"<(script|link|img|iframe|source|embed|audio|video)\b[^>]*?\s(src|href)=[\"']((https?:)?//[^\"']+)",
    re.IGNORECASE,
)


def test_pages_load_nothing_from_other_hosts(site: Path) -> None:
    offenders = {}
    for page in site.rglob("*.html"):
        loads = [m.group(3) for m in EXTERNAL.finditer(page.read_text(encoding="utf-8"))]
        if loads:
            offenders[str(page.relative_to(site))] = loads
    assert offenders == {}


def test_mathjax_is_served_by_the_site(site: Path) -> None:
    chapter = (site / "book/ch01_recurrence.html").read_text(encoding="utf-8")
    script = re.search(r'<script[^>]+src="([^"?]*tex-mml-chtml\.js)', chapter)
    assert script, "the chapter does not load MathJax"
    assert (site / "book" / script.group(1)).resolve().is_file()
    assert (site / "mathjax/output/chtml/fonts/woff-v2").is_dir(), "MathJax's fonts are missing"
    assert (site / "mathjax/input/tex/extensions/ams.js").is_file(), "MathJax's TeX extensions are missing"
    assert not list((site / "_static").rglob("tex-mml-chtml.js")), "MathJax must not be in _static/"


def test_exercise_page_is_the_release_with_launch_buttons(site: Path) -> None:
    page = (site / "exercises/ch01_recurrence/ch01_recurrence.html").read_text(encoding="utf-8")
    assert "NotImplementedError" in page
    assert "urlpath=lab/tree/exercises/ch01_recurrence/ch01_recurrence.ipynb" in page, (
        "no Binder button into JupyterLab"
    )
    assert "colab.research.google.com" in page, "no Colab button"
    assert (site / "_sources/exercises/ch01_recurrence/ch01_recurrence.ipynb").is_file(), (
        "no download of the notebook"
    )


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def rendered_dom(url: str, profile: Path) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "chromium is missing: `make test` installs it (apt-get install chromium)"
    result = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            # No name resolves but localhost: the page gets no network at all.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=30000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize(
    "page", ["book/ch01_recurrence.html", "exercises/ch01_recurrence/ch01_recurrence.html"]
)
def test_maths_renders_in_a_browser_without_network(
    site: Path, served: str, tmp_path: Path, page: str
) -> None:
    source = (site / page).read_text(encoding="utf-8")
    expected = len(re.findall(r'class="math notranslate nohighlight"', source))
    assert expected > 0
    dom = rendered_dom(f"{served}/{page}", tmp_path / "profile")
    rendered = dom.count("<mjx-container")
    assert rendered == expected, f"{rendered} of {expected} formulas rendered"
    assert "<mjx-merror" not in dom, "MathJax reported a TeX error"
