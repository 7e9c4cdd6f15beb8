"""What an instructor publishes to learners (`make learner-edition`).

    python tools/learner_edition.py [--source .] [--out _build/learner]

Writes three things into ``--out``:

- ``repository/``: the learners' copy of the course. Push it as the published
  repository (``_config.yml``'s ``repository.url``) and tag it ``v<version>``: Binder
  and Colab open its notebooks, and every notebook's install cell installs the package
  from it. It holds the course's tracked files (``git ls-files``: nothing untracked or
  ignored, so no gradebook, submission or ``.grading-secret``) that ``PUBLISHED`` names,
  less any whose name looks secret (``SECRET_NAMES``). The rule is an allow-list: a new
  folder stays private until it is named here. ``solutions/``, ``tests/`` (whose answer
  files hold solutions), ``bench/``, ``.ci/`` and the instructor's nbgrader settings are
  not in it.
- ``site/``: the website, built from ``repository/`` alone, so that it cannot show
  anything the edition lacks.
- ``dist/``: the package ``rnncourse`` as a wheel, built from ``repository/``.

``tests/site/test_learner_edition.py`` builds it from a copy of the course with a
planted secret and checks that no solution line and no secret reaches any of the three.
"""

from __future__ import annotations

import argparse
import fnmatch
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: What learners get: folders (ending in /) and files of the course, relative to its root.
PUBLISHED = (
    "book/",
    "exercises/",
    "rnncourse/",
    "jupyter/",
    "tools/install_torch.py",
    "_config.yml",
    "_toc.yml",
    "pyproject.toml",
    "requirements-book.lock",
    "requirements.lock",
    "requirements-data.lock",
    "environment.yml",
    "postBuild",
    "start",
    "Makefile",
    "README.md",
    "LICENSE",
    "LICENSE-TEXT.md",
    "CITATION.cff",
    ".gitignore",
)

#: Never published, wherever they are: names an instructor's secret or grading state may carry.
SECRET_NAMES = (
    "*secret*",
    "*.key",
    "*.pem",
    ".env",
    "gradebook*",
    "*.db",
    "*.sqlite*",
)


def tracked_files(source: Path) -> list[str]:
    """The files git tracks in ``source`` (paths relative to it), as they are in the working tree."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=source, capture_output=True, text=True, check=True
    ).stdout
    return sorted(path for path in listing.split("\0") if path and (source / path).is_file())


def is_published(path: str) -> bool:
    """Whether ``path`` (relative to the course's root) goes into the learner edition."""
    if any(fnmatch.fnmatch(part.lower(), pattern) for part in path.split("/") for pattern in SECRET_NAMES):
        return False
    return any(path == entry or (entry.endswith("/") and path.startswith(entry)) for entry in PUBLISHED)


def copy_repository(source: Path, target: Path) -> list[str]:
    """Copy the published files of ``source`` into ``target``; the list of what was copied."""
    published = [path for path in tracked_files(source) if is_published(path)]
    for path in published:
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / path, target / path)
    return published


def build_site(repository: Path, site: Path) -> None:
    """The website from the edition alone (as `make book` builds it, warnings as errors)."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    with tempfile.TemporaryDirectory(prefix="learner-site-") as scratch:
        subprocess.run(
            [
                str(jupyter_book),
                "build",
                str(repository),
                "--path-output",
                scratch,
                "-W",
                "-n",
                "--keep-going",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        shutil.copytree(Path(scratch) / "_build" / "html", site)


def build_wheel(repository: Path, dist: Path) -> Path:
    """The package's wheel, built from a scratch copy so that the edition stays clean."""
    with tempfile.TemporaryDirectory(prefix="learner-wheel-") as scratch:
        work = Path(scratch) / "src"
        shutil.copytree(repository, work)
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--wheel-dir", str(dist), str(work)],
            check=True,
            capture_output=True,
            text=True,
        )  # fmt: skip
    (wheel,) = dist.glob("rnncourse-*.whl")
    return wheel


def build(source: Path, out: Path) -> dict[str, Path]:
    """Write the learner edition of the course in ``source`` to ``out`` (replacing it)."""
    if out.resolve().is_relative_to(source.resolve()) and not out.resolve().is_relative_to(
        (source / "_build").resolve()
    ):
        raise SystemExit(f"--out {out} is inside the course but not under _build/: choose another folder")
    shutil.rmtree(out, ignore_errors=True)
    repository, site, dist = out / "repository", out / "site", out / "dist"
    repository.mkdir(parents=True)
    copy_repository(source, repository)
    build_site(repository, site)
    wheel = build_wheel(repository, dist)
    return {"repository": repository, "site": site, "wheel": wheel}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=REPO, help="the course (a git checkout)")
    parser.add_argument("--out", type=Path, default=REPO / "_build" / "learner")
    args = parser.parse_args(argv)
    try:
        made = build(args.source, args.out)
    except subprocess.CalledProcessError as error:
        raise SystemExit(f"{' '.join(error.cmd[:3])} failed:\n{error.stdout}\n{error.stderr}") from None
    for name, path in made.items():
        print(f"{name}: {path}")
    print(
        "publish: push repository/ to the address in _config.yml (repository.url) and tag it "
        "v<version>; serve site/ there (html.baseurl); the wheel is the package"
    )


if __name__ == "__main__":
    main()
