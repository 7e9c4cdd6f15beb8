"""How the tests start Debian's headless Chromium (the site test and the JupyterLab test)."""

from __future__ import annotations

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
