#!/usr/bin/env bash
# Build the one-folder bundle: installer/dist/usd-desktop/. Needs the project's .venv (scripts/dev setup).
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-../.venv/bin/python}"
"$PY" -m pip install -q -e "$(cd .. && pwd)[package]"
"$PY" -m PyInstaller --noconfirm --clean --distpath dist --workpath build usd-desktop.spec
echo "built: $(pwd)/dist/usd-desktop/usd-desktop ($(du -sh dist/usd-desktop | cut -f1))"
