"""docs/guide.md runs as written: its GLSL blocks are written to the file their first line names,
its Python blocks run in that folder in order (the window one on a private Xvfb), and its shell
blocks run with this interpreter as `python`. Validation messages fail the test like any other."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import Renderer  # noqa: F401
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

HERE = Path(__file__).resolve().parent
GUIDE = HERE.parents[1] / "docs" / "guide.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)

window = support.load_module("framegraph_test_exec_window_for_guide", HERE / "test_exec_window.py")
xvfb = window.xvfb          # the module-scoped private X server fixture


def blocks(text: str | None = None) -> list[tuple[str, str]]:
    return [(m[1], m[2]) for m in BLOCK.finditer(GUIDE.read_text() if text is None else text)]


def _python_blocks():
    return [code for lang, code in blocks() if lang == "python"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """The guide's folder: every GLSL block written where its first line says."""
    root = tmp_path_factory.mktemp("guide")
    for lang, code in blocks():
        if lang == "glsl":
            first, _, rest = code.partition("\n")
            match = re.match(r"//\s*file:\s*(\S+)", first)
            assert match, f"a GLSL block must start with '// file: PATH': {first!r}"
            path = root / match[1]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(rest)
    return root


def test_guide_has_the_sections_the_issue_asks_for():
    text = GUIDE.read_text()
    for heading in ("compute program that reads its result back", "A window", "per-frame data", "## Shaders",
                    "## Options", "## Command line", "Exit codes"):
        assert heading in text, heading
    assert len(_python_blocks()) >= 4


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_python_block(index, workdir, xvfb, monkeypatch, tmp_path):
    code = _python_blocks()[index]
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("FRAMEGRAPH_SHADER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FRAMEGRAPH_OFFSCREEN", raising=False)
    namespace = {"__name__": "__guide__"}
    exec(compile(code, f"{GUIDE}:python block {index}", "exec"), namespace)
    if "make_target(" in code:           # the window example really opened a window (on Xvfb)
        assert type(namespace["target"]).__name__ == "WindowTarget"
        assert namespace["renderer"].frame == 30


def test_shell_blocks(workdir, tmp_path):
    env = dict(os.environ, FRAMEGRAPH_SHADER_CACHE=str(tmp_path / "cache"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    # A wrapper, not a symlink: a venv's interpreter finds its site-packages from its own path.
    wrapper = bindir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    for lang, code in blocks():
        if lang != "bash" or code.lstrip().startswith("pip install"):
            continue
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=workdir, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert (workdir / "demo.png").stat().st_size > 0
