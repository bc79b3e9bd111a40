"""Start-up to DesktopReady (starter configuration) against a bare PySide6 QMainWindow.

Both run as fresh processes, offscreen, the same number of times; the figure is the wall time from
spawning the process to its exit right after it is ready (``--quit-after-ready``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import summary

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
BASELINE = """
import sys
import PySide6.QtWebEngineWidgets
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.resize(1440, 900); w.show()
QTimer.singleShot(0, app.quit)
app.exec()
"""


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    with tempfile.TemporaryDirectory() as home:
        env.update({k: f"{home}/{k}" for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")})
        desktop_cmd = [sys.executable, "-m", "usd_desktop", "--quit-after-ready",
                       "--no-remember-state"]
        base_cmd = [sys.executable, "-c", BASELINE]
        timed(desktop_cmd, env)  # warm the file cache once for both
        timed(base_cmd, env)
        ours = [timed(desktop_cmd, env) for _ in range(RUNS)]
        base = [timed(base_cmd, env) for _ in range(RUNS)]
    o, b = sorted(ours)[len(ours) // 2], sorted(base)[len(base) // 2]
    print(f"usd-desktop to DesktopReady : {summary(ours)}  ({RUNS} runs, {env['QT_QPA_PLATFORM']})")
    print(f"bare QMainWindow (baseline) : {summary(base)}")
    print(f"ratio                       : {o / b:.2f}x the bare window")


if __name__ == "__main__":
    main()
