"""The service desk on a real X server (Xvfb): the customer form, a case, knowledge, history,
several sessions with their overview, a navigation decision in the debugger, an agent script, and
calls: a ringing call that popped its customer's session, a new caller, a number two customers
share, and the wrap-up; the agent's and the team's dashboards.

Each shot starts the real desktop on the starter configuration with its first-run demo data, runs
configured action calls (``--run``) and saves a screenshot into docs/screenshots/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
EXTRA = Path(__file__).parent / "screenshot_config" / "screenshots.yaml"
HAVE_XVFB = shutil.which("xvfb-run") is not None
CI = os.environ.get("CI", "").lower() == "true"

CASES = {
    "customer-form": ["Open first customer"],
    "case": ["Shot: first follow-up", "Shot: show case"],
    "knowledge-search": ["Open first customer", "Shot: search knowledge", "Shot: show knowledge"],
    "history": ["Shot: first follow-up", "Shot: history to main panel", "Shot: show history"],
    "sessions": ["Shot: second customer", "Shot: first follow-up", "Open first customer"],
    "navigation-decision": ["Shot: customer by rule", "Shot: debugger to main panel", "Shot: show debugger",
                            "Shot: find navigation"],
    "agent-script": ["Open first customer", "Shot: script to the reason", "Shot: script on",
                     "Shot: show script"],
    "call-ringing": ["Simulate a customer's call"],
    "call-new-caller": ["Simulate a new caller"],
    "call-shared-number": ["Simulate a shared number"],
    "call-wrap-up": ["Simulate a customer's call", "Shot: answer", "Shot: hang up"],
    "dashboard-agent": ["Shot: dashboard day", "Shot: show my day", "Shot: refresh my day"],
    "dashboard-team": ["Shot: dashboard day", "Shot: show team", "Shot: refresh team"],
    "dashboard-trends": ["Shot: dashboard day", "Shot: team trends", "Shot: refresh team"],
}


@pytest.mark.xvfb
@pytest.mark.skipif(not HAVE_XVFB and not CI, reason="xvfb-run is not installed (apt-get install xvfb)")
@pytest.mark.parametrize("name", list(CASES))
def test_service_desk_screenshot(name: str, tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "resources" / "starter", config)
    shutil.copyfile(EXTRA, config / "zz-screenshots.yaml")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    env.update({k: str(tmp_path / k.lower()) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME",
                                                        "XDG_STATE_HOME", "XDG_CACHE_HOME")})
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    trace = tmp_path / "trace.jsonl"
    shot = tmp_path / f"{name}.png"
    runs = [arg for call in CASES[name] for arg in ("--run", call)]
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m", "usd_desktop",
         "--config", str(config), *runs, "--screenshot", str(shot), "--trace", str(trace),
         "--no-remember-state"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    failed = [r for r in records if r.get("outcome") in ("failed", "aborted")]
    assert not failed, f"action calls failed: {failed}"
    ran = {r.get("name") for r in records if r.get("outcome") == "ran"}
    assert set(CASES[name]) <= ran
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1440, 900)
    colours = {image.pixel(x, y) for x in range(0, 1440, 24) for y in range(0, 900, 24)}
    assert len(colours) > 40, "the screenshot looks blank"
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SHOTS / f"{name}.png")
