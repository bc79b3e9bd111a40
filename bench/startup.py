"""Start-up to DesktopReady (starter configuration) against a bare PySide6 QMainWindow.

Both run as fresh processes, offscreen, the same number of times. The figure is the wall time from
spawning the process to the moment it is ready: ``DesktopReady`` (the epoch the desktop logs) for
usd-desktop, the first turn of the event loop after ``show()`` for the bare window. Tear-down is not
counted.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import summary

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
ROOT = Path(__file__).resolve().parents[1]
BASELINE = """
import sys
import PySide6.QtWebEngineWidgets
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.resize(1440, 900); w.show()
import time
QTimer.singleShot(0, lambda: (print(f"READY {time.time():.6f}", flush=True), app.quit()))
app.exec()
"""


READY = re.compile(r"(?:READY|at epoch) (\d+\.\d+)")


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.time()
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    found = READY.search(done.stdout + done.stderr)
    if not found:
        raise SystemExit(f"no ready mark in the output of {cmd[:3]}")
    return float(found.group(1)) - start


def main() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    with tempfile.TemporaryDirectory() as home:
        env.update({k: f"{home}/{k}" for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")})
        desktop_cmd = [sys.executable, "-m", "usd_desktop", "--quit-after-ready",
                       "--no-remember-state"]
        file_cmd = [*desktop_cmd, "--config", str(ROOT / "resources" / "starter")]
        base_cmd = [sys.executable, "-c", BASELINE]
        for cmd in (desktop_cmd, file_cmd, base_cmd):  # warm the file cache; seed the store once
            timed(cmd, env)
        store = [timed(desktop_cmd, env) for _ in range(RUNS)]
        files = [timed(file_cmd, env) for _ in range(RUNS)]
        base = [timed(base_cmd, env) for _ in range(RUNS)]
    b = sorted(base)[len(base) // 2]
    print(f"usd-desktop, signed in through the store : {summary(store)}  ({RUNS} runs, "
          f"{env['QT_QPA_PLATFORM']})")
    print(f"usd-desktop, configuration from files    : {summary(files)}")
    print(f"bare QMainWindow (baseline)              : {summary(base)}")
    print(f"ratios to the bare window                : store {sorted(store)[RUNS // 2] / b:.2f}x, "
          f"files {sorted(files)[RUNS // 2] / b:.2f}x")


if __name__ == "__main__":
    main()
