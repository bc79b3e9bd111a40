"""The starter desktop on a real X server (Xvfb): start it, screenshot it into docs/screenshots/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
SHOT = ROOT / "docs" / "screenshots" / "starter-desktop.png"
HAVE_XVFB = shutil.which("xvfb-run") is not None
CI = os.environ.get("CI", "").lower() == "true"


@pytest.mark.xvfb
@pytest.mark.skipif(not HAVE_XVFB and not CI, reason="xvfb-run is not installed (apt-get install xvfb)")
def test_starter_desktop_screenshot(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    env.update({k: str(tmp_path / k.lower()) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                                        "XDG_STATE_HOME", "XDG_CACHE_HOME")})
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    trace = tmp_path / "trace.jsonl"
    shot = tmp_path / "desktop.png"
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m", "usd_desktop",
         "--screenshot", str(shot), "--trace", str(trace), "--no-remember-state"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1440, 900)
    colours = {image.pixel(x, y) for x in range(0, 1440, 24) for y in range(0, 900, 24)}
    assert len(colours) > 40, "the screenshot looks blank"
    # the welcome page really rendered: its header gradient is in the main panel
    header = QImage(image).pixelColor(300, 120)
    assert header.blue() > header.red(), "the welcome page header is not visible"
    lines = trace.read_text().splitlines()
    assert any('"DesktopReady"' in line for line in lines)
    assert any('"BrowserDocumentComplete"' in line for line in lines)
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SHOT)
