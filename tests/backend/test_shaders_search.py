"""Shaders on a search path: user folders first, built-ins always found; GLSL compiled on demand with
glslc and cached by content; compile errors with file and line; reload and watch rebuild pipelines;
reflection of readonly/writeonly and the check of a pass's declared accesses against it."""
from __future__ import annotations

import os
import re
import shutil
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import Renderer
    from framegraph.backends.vulkan import shaders as sh
    from framegraph.backends.vulkan.pipelines import check_declared_access
    from framegraph.backends.vulkan.reflect import reflect
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

from framegraph.errors import FrameGraphError
from framegraph.vk import Access

ROOT = Path(__file__).resolve().parents[2]

FILL = """#version 450
layout(local_size_x = 64) in;
layout(std430, binding = 0) writeonly buffer Out { uint values[]; };
void main() { uint i = gl_GlobalInvocationID.x; if (i < values.length()) values[i] = %d; }
"""


@pytest.fixture
def glslc():
    if shutil.which("glslc") is None:
        support.unavailable("glslc is not installed (apt-get install glslc)")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("FRAMEGRAPH_SHADER_CACHE", str(folder))
    monkeypatch.delenv("FRAMEGRAPH_SHADER_PATH", raising=False)
    return folder


def test_flags_agree_with_compile_shaders_script():
    script = (ROOT / "scripts" / "compile_shaders.sh").read_text()
    flags = re.search(r"^FLAGS=\((.*)\)$", script, re.M)[1].split()
    assert tuple(flags) == sh.GLSLC_FLAGS


def test_user_folder_first_builtins_always(tmp_path, cache, glslc):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "fill.comp").write_text(FILL % 7)
    (user / "fullscreen.vert.spv").write_bytes((ROOT / "shaders" / "triangle.vert.spv").read_bytes())
    library = sh.ShaderLibrary([user])
    assert library.find("fill.comp") == user / "fill.comp"
    assert library.find("fullscreen.vert") == user / "fullscreen.vert.spv"     # the user's wins
    assert library.find("tonemap.frag") == sh.builtin_shader_dir() / "tonemap.frag.spv"   # still found
    with pytest.raises(sh.ShaderNotFound, match=r"'nope.comp' not found .*mine"):
        library.find("nope.comp")


def test_env_path_and_deprecated_dir(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("FRAMEGRAPH_SHADER_PATH", str(tmp_path))
    assert sh.ShaderLibrary().folders == [tmp_path, sh.builtin_shader_dir()]
    monkeypatch.delenv("FRAMEGRAPH_SHADER_PATH")
    monkeypatch.setenv("FRAMEGRAPH_SHADER_DIR", str(tmp_path))
    with pytest.warns(DeprecationWarning, match="FRAMEGRAPH_SHADER_PATH"):
        folders = sh.ShaderLibrary().folders
    assert folders == [tmp_path, sh.builtin_shader_dir()]      # built-ins no longer hidden


def test_glsl_compiled_once_then_from_the_cache(tmp_path, cache, glslc):
    (tmp_path / "fill.comp").write_text(FILL % 1)
    first = sh.ShaderLibrary([tmp_path]).load("fill.comp")
    assert int.from_bytes(first.code[:4], "little") == sh.SPIRV_MAGIC
    assert list(cache.glob("*.spv")) == [cache / f"{first.digest}.spv"]
    # A second process finds it by content: no glslc needed.
    again = sh.ShaderLibrary([tmp_path], glslc="/nonexistent/glslc").load("fill.comp")
    assert again.code == first.code
    (tmp_path / "fill.comp").write_text(FILL % 2)
    with pytest.raises(sh.ShaderError, match="needs glslc"):
        sh.ShaderLibrary([tmp_path], glslc="/nonexistent/glslc").load("fill.comp")


def test_includes_are_part_of_the_hash(tmp_path, cache, glslc):
    (tmp_path / "value.h").write_text("const uint VALUE = 3;\n")
    (tmp_path / "inc.comp").write_text('#version 450\n#extension GL_GOOGLE_include_directive : require\n'
                                       '#include "value.h"\nlayout(local_size_x = 1) in;\n'
                                       'layout(std430, binding = 0) buffer B { uint v[]; };\nvoid main() { v[0] = VALUE; }\n')
    library = sh.ShaderLibrary([tmp_path])
    a = library.resolve("inc.comp")
    assert (tmp_path / "value.h").resolve() in a.files
    (tmp_path / "value.h").write_text("const uint VALUE = 4;\n")
    assert library.changed() == ["inc.comp"]


def test_compile_error_names_file_and_line(tmp_path, cache, glslc):
    (tmp_path / "bad.frag").write_text("#version 450\nlayout(location = 0) out vec4 c;\n\nvoid main() { c = nope; }\n")
    with pytest.raises(sh.ShaderError) as info:
        sh.ShaderLibrary([tmp_path]).load("bad.frag", pass_name="post")
    error = info.value
    assert error.line == 4 and error.file.endswith("bad.frag")
    assert "pass 'post'" in str(error) and "bad.frag:4" in str(error) and "nope" in str(error)


def test_reflection_reads_readonly_and_writeonly(tmp_path, cache, glslc):
    (tmp_path / "rw.comp").write_text("""#version 450
layout(local_size_x = 1) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) writeonly buffer B { float b[]; };
layout(std430, binding = 2) buffer C { float c[]; };
layout(binding = 3, rgba8) uniform writeonly image2D img;
layout(binding = 4) uniform sampler2D tex;
void main() { b[0] = a[0] + c[0]; c[1] = 0.0; imageStore(img, ivec2(0), texture(tex, vec2(0))); }
""")
    info = reflect(sh.ShaderLibrary([tmp_path]).load("rw.comp").code)
    rw = {b.binding: (b.readable, b.writable) for b in info.bindings}
    assert rw == {0: (True, False), 1: (False, True), 2: (True, True), 3: (False, True), 4: (True, False)}


def _pipeline(bindings):
    return SimpleNamespace(name="fill.comp", bindings={b.binding: b for b in bindings})


def test_declared_access_checked_against_the_shader(tmp_path, cache, glslc):
    (tmp_path / "fill.comp").write_text(FILL % 1)
    pipeline = _pipeline(reflect(sh.ShaderLibrary([tmp_path]).load("fill.comp").code).bindings)
    read = SimpleNamespace(access=Access.SHADER_STORAGE_READ)
    write = SimpleNamespace(access=Access.SHADER_STORAGE_WRITE)
    with pytest.raises(FrameGraphError, match=r"pass 'fill', resource 'out'.*writeonly in the shader"):
        check_declared_access(pipeline, 0, [read], pass_name="fill", resource="out")
    check_declared_access(pipeline, 0, [write], pass_name="fill", resource="out")      # agrees


def test_reload_and_watch_rebuild_pipelines(vk_context, tmp_path, cache, glslc):
    (tmp_path / "fill.comp").write_text(FILL % 1)

    def build(fg, frame):
        out = fg.create_buffer("out", size=64 * 4)
        with fg.add_pass("fill", queue="compute") as p:
            out = p.writes(out, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx: ctx.dispatch_threads(64, pipeline=ctx.compute_pipeline("fill.comp"),
                                                       bindings={0: "out"}))
        build.result = renderer.readback(fg, out, dtype=np.uint32)
        return out

    def edit(value):
        path = tmp_path / "fill.comp"
        path.write_text(FILL % value)
        stamp = time.time() + value         # a distinct mtime even on a coarse clock
        os.utime(path, (stamp, stamp))

    with Renderer(vk_context) as renderer:
        renderer.add_shader_path(tmp_path)
        renderer.render(build)
        assert set(build.result.result()) == {1}
        assert renderer.reload_shaders() == []                 # nothing changed
        edit(2)
        assert renderer.reload_shaders() == ["fill.comp"]
        renderer.render(build)
        assert set(build.result.result()) == {2}

        renderer.watch_shaders()
        edit(3)
        renderer.render(build)
        assert set(build.result.result()) == {3}
        # A broken edit warns once and keeps the last good pipeline.
        (tmp_path / "fill.comp").write_text("#version 450\nvoid main() { broken }\n")
        os.utime(tmp_path / "fill.comp", (time.time() + 10, time.time() + 10))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            renderer.render(build)
            renderer.render(build)
        assert set(build.result.result()) == {3}
        failed = [w for w in caught if "shader reload failed" in str(w.message)]
        assert len(failed) == 1 and "fill.comp:2" in str(failed[0].message)
        assert renderer.pipelines.reloads == 2
