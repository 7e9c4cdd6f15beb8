"""How the tests start Debian's headless Chromium (the site test and the JupyterLab test)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# Headless, as root, with no GPU; without the background-networking flags Chromium keeps
# trying hosts that this machine (and CI) cannot reach.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium_driver(profile: Path, *flags: str, capabilities: dict[str, Any] | None = None) -> Iterator[Any]:
    """Debian's Chromium driven by Selenium through Debian's chromedriver, never downloading either.

    Args:
        profile: an empty folder for the browser's profile.
        flags: more command-line flags (a window size, host rules).
        capabilities: WebDriver capabilities to set (e.g. ``goog:loggingPrefs``).
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.selenium_manager import SeleniumManager

    # Selenium Manager would download a browser or a driver: it must never be asked.
    def refuse(*_: object) -> None:
        raise AssertionError("Selenium Manager was called")

    SeleniumManager.binary_paths = refuse  # type: ignore[method-assign,assignment]
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [*CHROMIUM_FLAGS, *flags, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    for name, value in (capabilities or {}).items():
        options.set_capability(name, value)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
