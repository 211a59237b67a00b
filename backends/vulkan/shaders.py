"""Finds committed SPIR-V by name and turns it into shader modules.

SPIR-V is compiled ahead of time by scripts/compile_shaders.sh and committed, so running
needs no shader compiler; "triangle.vert" loads shaders/triangle.vert.spv.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import vulkan as vk

SPIRV_MAGIC = 0x07230203


def shader_dir() -> Path:
    """FRAMEGRAPH_SHADER_DIR, else the repository's shaders/ (the package is installed editable)."""
    override = os.environ.get("FRAMEGRAPH_SHADER_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shaders"


def spirv_path(name: str) -> Path:
    filename = name if name.endswith(".spv") else f"{name}.spv"
    return shader_dir() / filename


def load_spirv(name: str) -> bytes:
    path = spirv_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"no SPIR-V for {name!r} at {path}; run scripts/compile_shaders.sh")
    code = path.read_bytes()
    if len(code) % 4 or int.from_bytes(code[:4], "little") != SPIRV_MAGIC:
        raise ValueError(f"{path} is not SPIR-V")
    return code


def create_shader_module(ctx, name: str) -> Any:
    code = load_spirv(name)
    info = vk.VkShaderModuleCreateInfo(codeSize=len(code), pCode=code)
    return ctx.create("VkShaderModule", info, name=name)
