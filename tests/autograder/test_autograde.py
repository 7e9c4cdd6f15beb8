"""The one room that agrees with nbgrader: its sanitising order and its autograde pipeline.

``make grade`` replays nbgrader's sanitising before the sandbox runs a notebook, and
nbgrader's own autograde pass then finds that run in the cache by the notebook's content.
The two meet only while the lists agree, so these tests read the installed nbgrader.
"""

from __future__ import annotations

from pathlib import Path

from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from traitlets.config.loader import PyFileConfigLoader

from rnncourse.autograder import autograde


def test_the_sanitising_order_is_the_installed_nbgraders() -> None:
    installed = Autograde.class_traits()["sanitize_preprocessors"].default()
    assert list(autograde.SANITIZE) == list(installed), (
        "nbgrader's Autograde.sanitize_preprocessors changed: update autograde.SANITIZE to its new "
        f"list {[p.__name__ for p in installed]}"
    )


def test_the_course_runs_nbgraders_autograde_pipeline_with_the_sandbox_in_executes_place(repo: Path) -> None:
    config = PyFileConfigLoader("nbgrader_config.py", path=str(repo)).load_config()
    configured = [
        step if isinstance(step, str) else f"{step.__module__}.{step.__name__}"
        for step in config.Autograde.autograde_preprocessors
    ]
    installed = [
        "rnncourse.autograder.autograde.SandboxedExecute"
        if step is Execute
        else f"{step.__module__}.{step.__name__}"
        for step in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
    assert configured == installed
