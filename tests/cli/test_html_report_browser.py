"""Opt-in: open the report in headless Chromium from disk and check the screenshot is not blank.

Run with ``RNNCAST_BROWSER_TESTS=1`` on a machine with ``chromium`` on the PATH
(Debian: ``apt-get install -y chromium``).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import matplotlib.image as mpimg
import numpy as np
import pytest
from test_html_report import make_run

from rnncast.cli.html_report import write_report

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    os.environ.get("RNNCAST_BROWSER_TESTS") != "1" or CHROMIUM is None,
    reason="browser test: set RNNCAST_BROWSER_TESTS=1 and install chromium",
)
RED_BORDER = np.array([0xD9, 0x30, 0x25]) / 255  # .verdict-red border colour


def screenshot(page: str, out: str, profile: str, size: str = "1200,900") -> np.ndarray:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--screenshot={out}",
        f"--window-size={size}",
        f"file://{page}",
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return mpimg.imread(out)


def test_report_renders_in_chromium(tmp_path):
    page = write_report(make_run(), tmp_path / "run")
    pixels = screenshot(str(page.resolve()), str(tmp_path / "shot.png"), str(tmp_path / "p"))
    assert pixels.shape[0] >= 800 and pixels.shape[1] >= 1100
    rgb = np.round(pixels[..., :3] * 255).astype(np.int64)
    colours = np.unique(rgb[..., 0] * 65536 + rgb[..., 1] * 256 + rgb[..., 2])
    assert len(colours) > 200  # text, tables and the verdict box, not a blank page
    top = pixels[:400, :, :3]  # the first screen shows the red "does not beat naive" box
    assert (np.abs(top - RED_BORDER).max(axis=-1) < 0.04).sum() > 500
