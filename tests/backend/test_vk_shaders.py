"""Committed SPIR-V is what scripts/compile_shaders.sh makes from the committed GLSL today."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import support  # tests/backend is on sys.path (not a package)

ROOT = Path(__file__).resolve().parents[2]
SHADERS = ROOT / "shaders"
SOURCE_SUFFIXES = (".vert", ".frag", ".comp", ".glsl")


def _sources():
    return sorted(p for p in SHADERS.iterdir() if p.suffix in SOURCE_SUFFIXES)


def test_every_source_has_spirv_and_no_orphans():
    sources = {p.name for p in _sources()}
    compiled = {p.name[:-len(".spv")] for p in SHADERS.glob("*.spv")}
    assert sources, "no shader sources found"
    assert sources == compiled, f"missing .spv: {sources - compiled}; orphan .spv: {compiled - sources}"


def test_spirv_is_fresh(tmp_path):
    if shutil.which("glslc") is None:
        support.unavailable("glslc is not installed (apt-get install glslc)")
    subprocess.run(["bash", str(ROOT / "scripts" / "compile_shaders.sh"), str(tmp_path)],
                   check=True, capture_output=True, text=True)
    stale = [src.name for src in _sources()
             if (tmp_path / f"{src.name}.spv").read_bytes() != (SHADERS / f"{src.name}.spv").read_bytes()]
    assert not stale, f"stale SPIR-V for {stale}: run scripts/compile_shaders.sh and commit shaders/*.spv"


def test_load_spirv_by_name():
    try:
        from framegraph.backends.vulkan.shaders import SPIRV_MAGIC, load_spirv
    except (ImportError, OSError) as error:
        support.unavailable(f"the Vulkan loader is missing: {error}")
    code = load_spirv("triangle.vert")
    assert int.from_bytes(code[:4], "little") == SPIRV_MAGIC
    assert load_spirv("triangle.frag.spv") == (SHADERS / "triangle.frag.spv").read_bytes()
    with pytest.raises(FileNotFoundError, match="not found"):
        load_spirv("missing.vert")
