"""The learner's JupyterLab, seen in a real browser: `make lab`'s config on a copy of the course.

JupyterLab runs headless on a free loopback port with the learners' config
(`jupyter/`, as `make lab` passes it); Debian's Chromium, driven by Selenium
through Debian's chromedriver, opens the exercise with part 1 solved, runs
every cell and reads what the learner sees. A screenshot is left in the
test's temporary folder (its path is printed).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.browser import CHROMEDRIVER, CHROMIUM, chromium_driver
from tests.grading.notebooks import filled, grade_ids, read, solution_sources

ASSIGNMENT = "ch01_recurrence"
INSTRUCTOR_ITEMS = ["Formgrader", "Course List", "Assignment List", "Create assignment"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's chromium and chromium-driver (make system)",
    ),
]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_server(url: str, server: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"JupyterLab did not answer in {seconds} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, repo: Path, tool_env: dict[str, str]) -> Iterator[str]:
    """A learner's course folder with part 1 solved, served by JupyterLab; yields the notebook's URL."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(repo / "nbgrader_config.py", root)
    release = read(repo / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    first = grade_ids(release, "solution")[0]
    solutions = solution_sources(read(repo / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    notebook = root / "work" / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook.parent.mkdir(parents=True)
    nbformat.write(filled(release, {first: solutions[first]}), notebook)

    port, token = free_port(), secrets.token_hex(16)
    env = tool_env | {
        # The learners' config, as `make lab` passes it; no user config of whoever runs the test.
        "JUPYTER_CONFIG_PATH": str(repo / "jupyter"),
        "JUPYTER_CONFIG_DIR": str(root / "user-config"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
    }
    log = root / "lab.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ServerApp.open_browser=False",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root / 'work'}",
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_server(f"{base}/api/status?token={token}", server, log)
        yield f"{base}/lab/tree/exercises/{ASSIGNMENT}/{ASSIGNMENT}.ipynb?token={token}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with chromium_driver(tmp_path_factory.mktemp("chromium"), "--window-size=1400,1000") as driver:
        yield driver


def cells(driver: WebDriver) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")


def code_cell(driver: WebDriver, text: str) -> WebElement:
    """The one code cell whose source contains ``text``."""
    found = [
        cell
        for cell in cells(driver)
        if "jp-CodeCell" in (cell.get_attribute("class") or "")
        and text in cell.find_element(By.CSS_SELECTOR, ".jp-InputArea").text
    ]
    assert len(found) == 1, f"{len(found)} code cells contain {text!r}"
    return found[0]


def output_of(cell: WebElement) -> str:
    return "\n".join(area.text for area in cell.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output"))


def click_menu(driver: WebDriver, label: str) -> list[str]:
    """Open a menu of the menu bar and return its visible items' labels."""
    for item in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item"):
        if item.text.strip() == label:
            item.click()
            break
    else:
        return []
    menu = WebDriverWait(driver, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, ".lm-Menu"))
    return [element.text.strip() for element in menu.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel")]


def click_menu_item(driver: WebDriver, label: str) -> None:
    for item in driver.find_elements(By.CSS_SELECTOR, ".lm-Menu .lm-Menu-item"):
        if item.find_element(By.CSS_SELECTOR, ".lm-Menu-itemLabel").text.strip() == label:
            item.click()
            return
    pytest.fail(f"no menu item {label!r}")


@pytest.fixture(scope="module")
def ran(lab: str, browser: WebDriver, tmp_path_factory: pytest.TempPathFactory) -> WebDriver:
    """The notebook opened and run with Run > Run All Cells, as a learner would."""
    started = time.monotonic()
    browser.get(lab)
    wait = WebDriverWait(browser, 60, poll_frequency=0.3)
    wait.until(lambda d: len(cells(d)) > 10)
    # The kernel is ready when the toolbar's status says so.
    wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".jp-Notebook-ExecutionIndicator[data-status='idle']")
    )
    items = click_menu(browser, "Run")
    assert "Run All Cells" in items, items
    click_menu_item(browser, "Run All Cells")
    # Run All stops at the first error (JupyterLab aborts the queued cells): part 2's test here.
    test_part2 = "check.encode_and_pad(encode_and_pad)"
    wait.until(lambda d: "Error" in output_of(code_cell(d, test_part2)))
    shot = tmp_path_factory.mktemp("screens") / "lab.png"
    code_cell(browser, test_part2).location_once_scrolled_into_view  # noqa: B018 (scrolls it into view)
    browser.save_screenshot(str(shot))
    print(f"screenshot: {shot}; opened and ran in {time.monotonic() - started:.1f} s")
    return browser


def test_the_solved_part_passes_its_visible_test(ran: WebDriver) -> None:
    shown = output_of(code_cell(ran, "check.build_vocab(build_vocab)"))
    assert "build_vocab: the visible tests pass." in shown
    assert "Error" not in shown and "Traceback" not in shown


def test_an_unsolved_part_shows_the_checks_message(ran: WebDriver) -> None:
    shown = output_of(code_cell(ran, "check.encode_and_pad(encode_and_pad)"))
    assert "GradingFailure" in shown
    assert "encode_and_pad still raises NotImplementedError" in shown


def test_the_nbgrader_menu_offers_the_learner_nothing_of_the_instructors(ran: WebDriver) -> None:
    labels = [item.text.strip() for item in ran.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")]
    assert "Run" in labels and "Kernel" in labels, labels  # the menu bar is there and read
    # Validation is a button on the notebook (below); nbgrader's menu has nothing else for a learner.
    assert "Nbgrader" not in labels, labels
    # Nor a panel of theirs: create-assignment's sidebar, the formgrader, the lists.
    titles = [
        tab.get_attribute("title") or tab.text for tab in ran.find_elements(By.CSS_SELECTOR, ".lm-TabBar-tab")
    ]
    assert not [title for title in titles if any(item.lower() in title.lower() for item in INSTRUCTOR_ITEMS)]
    assert "nbgrader-create_assignemnt" not in ran.page_source  # (nbgrader's spelling of the panel's id)


def test_validation_is_offered_on_the_notebook(ran: WebDriver) -> None:
    buttons = ran.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel-toolbar .jp-ToolbarButtonComponent")
    assert "Validate" in [button.text.strip() for button in buttons]


def test_validate_shows_each_failing_part_in_full(ran: WebDriver, tmp_path_factory) -> None:
    buttons = ran.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel-toolbar .jp-ToolbarButtonComponent")
    next(button for button in buttons if button.text.strip() == "Validate").click()
    dialog = WebDriverWait(ran, 60, poll_frequency=0.3).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".jp-Dialog-content")
    )
    WebDriverWait(ran, 60).until(lambda d: "NotImplementedError" in dialog.text)
    ran.save_screenshot(str(tmp_path_factory.mktemp("screens") / "validate.png"))
    assert "encode_and_pad still raises NotImplementedError" in dialog.text
    assert "exchange" not in dialog.text.lower()
