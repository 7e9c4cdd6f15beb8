"""The course's grading secret: made once by `make secret`, kept out of git, required by `make grade`."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from rnncourse.autograder import secret
from rnncourse.grading.parts import HiddenKey


@pytest.fixture(autouse=True)
def _no_secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(secret.ENVIRONMENT, raising=False)


def test_make_secret_writes_a_private_file_once(tmp_path: Path) -> None:
    path = secret.create(tmp_path)
    assert path == tmp_path / ".grading-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text().strip()
    assert len(text) == 64 and int(text, 16) >= 0
    with pytest.raises(FileExistsError, match="exists already"):
        secret.create(tmp_path)
    assert path.read_text().strip() == text, "an existing secret is never overwritten"
    assert secret.load(tmp_path) == text.encode()
    other = tmp_path / "other"
    other.mkdir()
    secret.create(other)
    assert secret.load(other) != secret.load(tmp_path), "each course draws its own"


def test_the_environment_takes_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret.create(tmp_path)
    monkeypatch.setenv(secret.ENVIRONMENT, "x" * 40)
    assert secret.load(tmp_path) == b"x" * 40
    assert secret.key(tmp_path, "ch01_recurrence") == HiddenKey(b"x" * 40, "ch01_recurrence")


def test_no_secret_or_a_short_one_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(secret.MissingSecret, match="make secret"):
        secret.load(tmp_path)
    monkeypatch.setenv(secret.ENVIRONMENT, "short")
    with pytest.raises(secret.MissingSecret, match="too short"):
        secret.load(tmp_path)


def test_git_ignores_the_secret(repo: Path) -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".grading-secret"], cwd=repo, capture_output=True, check=False
    )
    assert ignored.returncode == 0, "the secret must never be committed"


def test_make_grade_refuses_to_grade_without_a_secret(
    tmp_path: Path, repo: Path, tool_env: dict[str, str]
) -> None:
    (tmp_path / "nbgrader_config.py").write_text((repo / "nbgrader_config.py").read_text())
    (tmp_path / "submitted").mkdir()
    (tmp_path / "solutions").mkdir()
    env = {key: value for key, value in tool_env.items() if key != secret.ENVIRONMENT}
    run = subprocess.run(
        [sys.executable, "-m", "rnncourse.autograder.batch"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode != 0 and "make secret" in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
