"""The admin guide's publishing walkthrough, run word for word against a fresh SQLite store."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "admin-guide.md"


def walkthrough() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough:publish -->\s*```sh\n(.*?)```", text, re.S)
    assert block, "the guide lost its publishing walkthrough"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_every_command_of_the_walkthrough_works_as_written(tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(ROOT / "docs", work / "docs")
    env = dict(os.environ, USD_DESKTOP_STORE=f"sqlite:///{tmp_path / 'store.db'}", USER="admin")
    env.update({k: str(tmp_path / k.lower()) for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME")})
    admin = str(Path(sys.executable).with_name("usd-admin"))
    outputs = []
    for line in walkthrough():
        args = shlex.split(line)
        assert args[0] == "usd-admin", line
        done = subprocess.run([admin, *args[1:]], cwd=work, env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    joined = "\n".join(outputs)
    assert "ana: First configuration v1" in joined
    assert 'options "maxNumberOfSessions": "2"' in joined
    assert "published First configuration v3 = v1" in joined
    exported = (work / "first-config-v3.yaml").read_text(encoding="utf-8")
    assert "name: First configuration" in exported
    assert "admin publish First configuration" in joined  # the audit trail names who and what
