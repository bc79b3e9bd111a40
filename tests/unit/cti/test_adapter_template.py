"""The CTI adapter template (resources/templates/cti-adapter) works as a partner's copy would.

Its own tests (the conformance suite against its fake PBX) run under pytester in a copy of the
folder, with its ``pyproject.toml`` as the configuration and its entry point installed the way
``pip install -e .`` installs it (a ``.dist-info`` with the ``entry_points.txt`` its pyproject
declares), so the entry-point check runs too.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from pathlib import Path

import pytest

from usd_desktop.cti.registry import GROUP

pytest_plugins = ["pytester"]

TEMPLATE = Path(__file__).resolve().parents[3] / "resources" / "templates" / "cti-adapter"


def install_entry_points(site: Path, project: dict[str, object]) -> None:
    """What pip writes for the template's entry points: a dist-info that importlib.metadata finds."""
    meta = project["project"]
    assert isinstance(meta, dict)
    info = site / f"{str(meta['name']).replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n")
    lines = []
    for group, points in meta["entry-points"].items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in points.items())
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def test_the_template_declares_its_adapter() -> None:
    project = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())
    assert project["project"]["entry-points"][GROUP] == {"acme": "acme_cti.adapter:AcmeAdapter"}
    assert sorted(p.name for p in (TEMPLATE / "acme_cti").glob("*.py")) == ["__init__.py", "adapter.py",
                                                                            "fake_pbx.py"]


def test_the_template_passes_the_conformance_suite(pytester: pytest.Pytester) -> None:
    shutil.copytree(TEMPLATE, pytester.path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    install_entry_points(pytester.path / "site", tomllib.loads((TEMPLATE / "pyproject.toml").read_text()))
    pytester.syspathinsert(pytester.path / "site")
    result = pytester.runpytest("-p", "no:asyncio", "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=26, skipped=4)
    result.stdout.fnmatch_lines(["*the acme adapter does not declare start_recording, stop_recording*"])


def test_the_guide_quotes_the_template_as_it_is() -> None:
    """Each code block of docs/partners.md marked ``<!-- from <file> -->`` is that file's text."""
    root = TEMPLATE.parents[2]
    guide = (root / "docs" / "partners.md").read_text()
    quoted = re.findall(r"<!-- from (\S+) -->\n```\w*\n(.*?)```", guide, flags=re.DOTALL)
    assert len(quoted) >= 8
    for path, block in quoted:
        assert block in (root / path).read_text(), f"docs/partners.md quotes {path}, but the file differs:\n{block}"
