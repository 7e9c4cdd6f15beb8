"""Collecting a learning platform's zip: the newest attempt per learner, ids intact, every skip named."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest
from traitlets.config import Config

from rnncourse.autograder import batch, collect

ASSIGNMENT = "ch01_recurrence"


def notebook(marker: str) -> str:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(marker)]))


def make_zip(path: Path, members: dict[str, str], times: dict[str, tuple[int, ...]] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=(times or {}).get(name, (2026, 2, 1, 12, 0, 0)))
            zipped.writestr(info, text)
    return path


def collected(root: Path, student: str) -> str:
    [path] = (root / "submitted" / student / ASSIGNMENT).glob("*.ipynb")
    return str(nbformat.read(path, as_version=4).cells[0].source)


def pattern(platform: str, title: str = ASSIGNMENT) -> str:
    return collect.named_regexp(Config(), platform, title)


def test_blackboard_keeps_the_newest_attempt_whatever_the_order_in_the_zip(tmp_path: Path) -> None:
    title = "Exercise 1 Recurrence"
    newer = f"{title}_ada_lovelace_attempt_2026-02-06-16-59-12_{ASSIGNMENT}.ipynb"
    older = f"{title}_ada_lovelace_attempt_2026-02-05-09-00-00_{ASSIGNMENT}.ipynb"
    # the newer attempt comes first in the zip: the order must not decide
    archive = make_zip(tmp_path / "bb.zip", {newer: notebook("full marks"), older: notebook("untouched")})
    found = collect.collect_zip(archive, tmp_path, ASSIGNMENT, pattern("blackboard", title))
    assert collected(tmp_path, "ada_lovelace") == "full marks"
    assert len(found.replaced) == 1 and older in found.replaced[0] and newer in found.replaced[0]
    stamp = (tmp_path / "submitted" / "ada_lovelace" / ASSIGNMENT / "timestamp.txt").read_text()
    assert stamp.startswith("2026-02-06 16:59:12")


def test_ids_with_underscores_dots_and_hyphens_survive_and_do_not_collide(tmp_path: Path) -> None:
    ids = ["ada_lovelace", "ada.l", "grace-hopper", "lovelace", "a_b_attempt_c"]
    members = {
        f"{ASSIGNMENT}_{student}_attempt_2026-02-06-10-00-0{n}_{ASSIGNMENT}.ipynb": notebook(student)
        for n, student in enumerate(ids)
    }
    archive = make_zip(tmp_path / "bb.zip", members)
    found = collect.collect_zip(archive, tmp_path, ASSIGNMENT, pattern("blackboard"))
    assert sorted(found.collected) == sorted(ids)
    for student in ids:
        assert collected(tmp_path, student) == student
    assert found.skipped == [] and found.replaced == []


def test_canvas_names_give_the_user_id_and_the_zip_time_orders_attempts(tmp_path: Path) -> None:
    first = f"lovelaceada_48213_2219876_{ASSIGNMENT}.ipynb"
    late = f"lovelaceada_LATE_48213_2219877_{ASSIGNMENT}-1.ipynb"
    other = f"hoppergrace_50122_2219990_{ASSIGNMENT}.ipynb"
    archive = make_zip(
        tmp_path / "canvas.zip",
        {late: notebook("resubmitted"), first: notebook("first"), other: notebook("grace")},
        {first: (2026, 2, 5, 9, 0, 0), late: (2026, 2, 7, 8, 30, 0), other: (2026, 2, 6, 10, 0, 0)},
    )
    found = collect.collect_zip(archive, tmp_path, ASSIGNMENT, pattern("canvas"))
    assert sorted(found.collected) == ["48213", "50122"]
    assert collected(tmp_path, "48213") == "resubmitted"
    assert found.collected["48213"].timed_by == "the zip entry"
    assert first in found.replaced[0]


@pytest.mark.parametrize("folders", [True, False])
def test_moodle_names_in_folders_or_flat(tmp_path: Path, folders: bool) -> None:
    separator = "/" if folders else ""
    name = f"Ada Lovelace_48213_assignsubmission_file_{separator}{ASSIGNMENT}.ipynb"
    archive = make_zip(
        tmp_path / "moodle.zip", {name: notebook("ada"), "Grace Hopper_50122_onlinetext_/x.html": "<p/>"}
    )
    found = collect.collect_zip(archive, tmp_path, ASSIGNMENT, pattern("moodle"))
    assert list(found.collected) == ["48213"] and collected(tmp_path, "48213") == "ada"
    assert found.skipped == ["Grace Hopper_50122_onlinetext_/x.html: not a notebook (.ipynb)"]


def test_every_platforms_documented_example_is_read(tmp_path: Path) -> None:
    for name, platform in collect.PLATFORMS.items():
        title = "Exercise 1" if name == "blackboard" else ASSIGNMENT
        archive = make_zip(tmp_path / f"{name}.zip", {platform.example: notebook(name)})
        found = collect.collect_zip(archive, tmp_path / name, ASSIGNMENT, pattern(name, title))
        assert len(found.collected) == 1 and found.skipped == [], (name, found.report())


def test_what_is_not_collected_is_named_with_its_reason(tmp_path: Path) -> None:
    members = {
        "readme.txt": "hello",
        "nobody.ipynb": notebook("x"),
        f"{ASSIGNMENT}_ada_attempt_2026-13-45-99-00-00_{ASSIGNMENT}.ipynb": notebook("bad time"),
        f"{ASSIGNMENT}_ada lovelace_attempt_2026-02-06-10-00-00_{ASSIGNMENT}.ipynb": notebook("space"),
        f"../../{ASSIGNMENT}_evil_attempt_2026-02-06-10-00-00_x.ipynb": notebook("evil"),
    }
    archive = make_zip(tmp_path / "bb.zip", members)
    found = collect.collect_zip(archive, tmp_path / "course", ASSIGNMENT, pattern("blackboard"))
    reasons = "\n".join(found.skipped)
    assert "readme.txt: not a notebook" in reasons
    assert "nobody.ipynb: the name does not match" in reasons
    assert "is not a date" in reasons
    assert "'ada lovelace' has characters an id cannot hold" in reasons
    assert len(found.skipped) == 4
    # the member with "../" is read by its name only: it lands inside submitted/, never above it
    assert (tmp_path / "course" / "submitted" / "evil" / ASSIGNMENT / "x.ipynb").is_file()
    assert not list(tmp_path.glob("*.ipynb"))


def test_an_older_attempt_never_replaces_a_newer_one_already_collected(tmp_path: Path) -> None:
    newer = f"{ASSIGNMENT}_ada_attempt_2026-02-06-10-00-00_{ASSIGNMENT}.ipynb"
    older = f"{ASSIGNMENT}_ada_attempt_2026-02-01-10-00-00_{ASSIGNMENT}.ipynb"
    collect.collect_zip(
        make_zip(tmp_path / "1.zip", {newer: notebook("new")}), tmp_path, ASSIGNMENT, pattern("blackboard")
    )
    found = collect.collect_zip(
        make_zip(tmp_path / "2.zip", {older: notebook("old")}), tmp_path, ASSIGNMENT, pattern("blackboard")
    )
    assert collected(tmp_path, "ada") == "new" and "kept the notebook already in" in found.replaced[0]


def test_learners_off_the_roster_are_collected_and_named(tmp_path: Path) -> None:
    members = {
        f"{ASSIGNMENT}_{s}_attempt_2026-02-06-10-00-00_{ASSIGNMENT}.ipynb": notebook(s)
        for s in ("ada", "zed")
    }
    found = collect.collect_zip(
        make_zip(tmp_path / "bb.zip", members), tmp_path, ASSIGNMENT, pattern("blackboard"), {"ada"}
    )
    assert sorted(found.collected) == ["ada", "zed"] and len(found.unknown) == 1 and "zed" in found.unknown[0]


def test_the_course_config_reads_blackboard_names_by_default(repo: Path) -> None:
    config = batch.load_config(repo)
    regexp = collect.named_regexp(config, None, ASSIGNMENT)
    assert regexp == pattern("blackboard")
    with pytest.raises(SystemExit, match="known platforms"):
        collect.named_regexp(config, "sakai", ASSIGNMENT)
