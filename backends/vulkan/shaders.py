"""Finds shaders by name on a search path and turns them into SPIR-V: the user's folders first,
then FRAMEGRAPH_SHADER_PATH, then the built-ins (always found, so a user folder never hides
`fullscreen.vert`).

In a user folder a GLSL source (`blur.comp`) is compiled on demand with glslc, cached on disk by
the hash of its text, its #includes and the flags; a folder that holds only `blur.comp.spv` gives
that. The built-ins are the committed SPIR-V (scripts/compile_shaders.sh), so running them needs no
compiler.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import vulkan as vk

from framegraph.errors import FrameGraphError

SPIRV_MAGIC = 0x07230203
_OP_FUNCTION_END = 56           # SPIR-V's OpFunctionEnd: a module's last instruction
# The flags live here and in scripts/compile_shaders.sh (tests/backend/test_shaders_search.py checks
# they agree), so a user's shader compiles as the built-ins do.
GLSLC_FLAGS = ("--target-env=vulkan1.3", "-Werror", "-O")
SOURCE_SUFFIXES = (".vert", ".frag", ".comp", ".geom", ".tesc", ".tese", ".glsl")
_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)
# glslc prints "file:line: error: message"; the file may itself hold colons (absolute paths do not).
_DIAGNOSTIC = re.compile(r"^(?P<file>[^\n]*?):(?P<line>\d+): (?P<kind>error|warning): (?P<msg>.*)$", re.M)


class ShaderError(FrameGraphError):
    """A shader that cannot be found or compiled; the message names the file and line (and the
    pass, when a pass asked for it)."""

    def __init__(self, message: str, *, pass_name: str | None = None, file: str | None = None,
                 line: int | None = None):
        super().__init__(message, pass_name=pass_name)
        self.file = file
        self.line = line


class ShaderNotFound(ShaderError, FileNotFoundError):
    pass


def builtin_shader_dir() -> Path:
    """framegraph's own shaders: shaders/ of the checkout, or framegraph/shaders of an installed
    wheel; both are two levels above this file (the wheel installs backends/ as framegraph/backends)."""
    return Path(__file__).resolve().parents[2] / "shaders"


def shader_dir() -> Path:
    """Deprecated: the built-in folder (use ShaderLibrary / Renderer.shader_path)."""
    return builtin_shader_dir()


def _env_folders() -> list[Path]:
    folders = [Path(p) for p in os.environ.get("FRAMEGRAPH_SHADER_PATH", "").split(os.pathsep) if p]
    old = os.environ.get("FRAMEGRAPH_SHADER_DIR")
    if old:
        warnings.warn("FRAMEGRAPH_SHADER_DIR is deprecated: use FRAMEGRAPH_SHADER_PATH (searched before the "
                      "built-ins, which stay visible)", DeprecationWarning, stacklevel=3)
        folders.append(Path(old))
    return folders


def cache_dir() -> Path:
    """Where compiled SPIR-V is kept: FRAMEGRAPH_SHADER_CACHE, else $XDG_CACHE_HOME/framegraph/shaders."""
    override = os.environ.get("FRAMEGRAPH_SHADER_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "framegraph" / "shaders"


@dataclass(frozen=True)
class ShaderSource:
    """Where a name resolved to: the SPIR-V and the files it came from (watched for changes)."""
    name: str
    code: bytes
    path: Path                      # the source (compiled) or the .spv (loaded)
    files: tuple[Path, ...]         # every file whose change means a rebuild (source and includes)
    digest: str                     # hash of those files' contents


def _check_spirv(code: bytes, path: Path, pass_name: str | None = None) -> bytes:
    """The module's shape before a driver sees it: the header, then instructions that each fit in
    what is left, the last an OpFunctionEnd (a module ends with a function's body). A truncated
    module crashed lavapipe's vkCreateShaderModule."""
    if len(code) % 4 or len(code) < 20 or int.from_bytes(code[:4], "little") != SPIRV_MAGIC:
        raise ShaderError(f"{path} is not SPIR-V", file=str(path), pass_name=pass_name)
    words = memoryview(code).cast("I")
    i, last = 5, None
    while i < len(words):
        count = words[i] >> 16
        if count == 0 or i + count > len(words):
            raise ShaderError(f"{path}: SPIR-V instruction at word {i} runs past the end of the module (truncated?)",
                              file=str(path), pass_name=pass_name)
        last = words[i] & 0xFFFF
        i += count
    if last != _OP_FUNCTION_END:
        raise ShaderError(f"{path}: SPIR-V module does not end with a function's OpFunctionEnd (truncated?)",
                          file=str(path), pass_name=pass_name)
    return code


def _includes(path: Path, folders: Iterable[Path], seen: set[Path] | None = None) -> list[Path]:
    """`path` and the files it #includes, transitively (a missing include is glslc's to report)."""
    seen = set() if seen is None else seen
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    out = [path]
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return out
    for name in _INCLUDE.findall(text):
        for folder in (path.parent, *folders):
            candidate = folder / name
            if candidate.is_file():
                out += _includes(candidate, folders, seen)
                break
    return out


def _digest(files: Iterable[Path], flags: Iterable[str]) -> str:
    h = hashlib.sha256("\0".join(flags).encode())
    for f in files:
        h.update(b"\0" + f.name.encode() + b"\0")
        try:
            h.update(f.read_bytes())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()


def compile_glsl(path: Path, *, include_dirs: Iterable[Path] = (), pass_name: str | None = None,
                 glslc: str | None = None, cache: Path | None = None) -> tuple[bytes, tuple[Path, ...], str]:
    """SPIR-V for a GLSL file: from the cache when its text, includes and flags are unchanged, else
    from glslc. Errors raise ShaderError naming the file and line glslc reported."""
    include_dirs = [Path(d) for d in include_dirs]
    files = tuple(_includes(path, include_dirs))
    flags = GLSLC_FLAGS + tuple(f"-I{d}" for d in include_dirs)
    digest = _digest(files, GLSLC_FLAGS)      # include dirs change where files come from, not the hash
    cache = cache_dir() if cache is None else cache
    cached = cache / f"{digest}.spv"
    if cached.is_file():
        return _check_spirv(cached.read_bytes(), cached, pass_name), files, digest
    exe = shutil.which(glslc or os.environ.get("GLSLC") or "glslc")
    if not exe:
        raise ShaderError(f"{path}: compiling GLSL needs glslc (Debian: apt-get install glslc), or put "
                          f"{path.name}.spv next to it", pass_name=pass_name, file=str(path))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.spv"
        result = subprocess.run([exe, *flags, "-o", str(out), str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            text = (result.stderr or result.stdout).strip()
            first = _DIAGNOSTIC.search(text)
            if first is not None:
                file, line = first["file"], int(first["line"])
                errors = [m for m in _DIAGNOSTIC.finditer(text) if m["kind"] == "error"] or [first]
                detail = "; ".join(f"{m['file']}:{m['line']}: {m['msg']}" for m in errors[:5])
            else:
                file, line, detail = str(path), None, text
            raise ShaderError(f"GLSL compile failed: {detail}", pass_name=pass_name, file=file, line=line)
        code = _check_spirv(out.read_bytes(), path, pass_name)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f".{digest}.{os.getpid()}.tmp"
        partial.write_bytes(code)
        partial.replace(cached)             # atomic: two processes never read half a file
    except OSError:
        pass                                # a read-only cache only costs a recompile
    return code, files, digest


class ShaderLibrary:
    """The search path and what each name resolved to.

    `paths` are the user's folders, searched in order before FRAMEGRAPH_SHADER_PATH and the
    built-ins. `resolve(name)` finds `name` (a source, compiled) or `name.spv`; `changed()` lists the
    names whose files changed since they were resolved (what reload and watch rebuild)."""

    def __init__(self, paths: Iterable[str | os.PathLike] = (), *, cache: str | os.PathLike | None = None,
                 glslc: str | None = None) -> None:
        self.user_paths = [Path(p) for p in paths]
        self.cache = Path(cache) if cache is not None else None
        self.glslc = glslc
        self.resolved: dict[str, ShaderSource] = {}

    @property
    def folders(self) -> list[Path]:
        return [*self.user_paths, *_env_folders(), builtin_shader_dir()]

    def add_path(self, path: str | os.PathLike, *, first: bool = True) -> None:
        """Search `path` too (before the other user folders unless first=False); names already
        resolved keep their files until reload."""
        path = Path(path)
        if path in self.user_paths:
            self.user_paths.remove(path)
        self.user_paths.insert(0 if first else len(self.user_paths), path)

    def find(self, name: str, *, pass_name: str | None = None) -> Path:
        """The file `name` resolves to: in each folder in turn, a GLSL source `name` (user folders;
        compiled on demand), then `name.spv`. The built-in folder serves its committed SPIR-V."""
        builtin = builtin_shader_dir()
        spv_name = name if name.endswith(".spv") else f"{name}.spv"
        for folder in self.folders:
            if folder != builtin and not name.endswith(".spv") and (folder / name).is_file():
                return folder / name
            if (folder / spv_name).is_file():
                return folder / spv_name
        searched = ", ".join(str(f) for f in self.folders)
        raise ShaderNotFound(f"shader {name!r} not found (searched {searched}); add your folder with "
                             f"Renderer(shader_path=[...]) or FRAMEGRAPH_SHADER_PATH", pass_name=pass_name,
                             file=name)

    def load(self, name: str, *, pass_name: str | None = None) -> ShaderSource:
        path = self.find(name, pass_name=pass_name)
        if path.suffix == ".spv":
            code = _check_spirv(path.read_bytes(), path, pass_name)
            files = (path,)
            digest = hashlib.sha256(code).hexdigest()
        else:
            code, files, digest = compile_glsl(path, include_dirs=[path.parent, *self.folders],
                                               pass_name=pass_name, glslc=self.glslc, cache=self.cache)
        return ShaderSource(name=name, code=code, path=path, files=files, digest=digest)

    def resolve(self, name: str, *, pass_name: str | None = None) -> ShaderSource:
        source = self.resolved.get(name)
        if source is None:
            source = self.resolved[name] = self.load(name, pass_name=pass_name)
        return source

    def changed(self) -> list[str]:
        """Names resolved so far whose file, includes or resolution changed (a new file earlier on
        the path counts); their entries are dropped so the next resolve rebuilds them."""
        out = []
        for name, source in list(self.resolved.items()):
            try:
                path = self.find(name)
            except ShaderNotFound:
                path = None
            if path is None or path.resolve() != source.path.resolve():
                out.append(name)
            elif source.path.suffix == ".spv":
                try:
                    if hashlib.sha256(path.read_bytes()).hexdigest() != source.digest:
                        out.append(name)
                except OSError:
                    out.append(name)
            elif _digest(_includes(source.path, [source.path.parent, *self.folders]), GLSLC_FLAGS) != source.digest:
                out.append(name)
        return out

    def mtimes(self) -> dict[Path, float]:
        """Modification times of every watched file (cheap to poll; `changed()` confirms by content)."""
        out = {}
        for source in self.resolved.values():
            for f in source.files:
                try:
                    out[f] = f.stat().st_mtime_ns
                except OSError:
                    out[f] = -1
        return out


_default_library: ShaderLibrary | None = None


def default_library() -> ShaderLibrary:
    global _default_library
    if _default_library is None:
        _default_library = ShaderLibrary()
    return _default_library


def spirv_path(name: str) -> Path:
    return default_library().find(name)


def load_spirv(name: str, *, library: ShaderLibrary | None = None, pass_name: str | None = None) -> bytes:
    """SPIR-V for `name` on the default search path (user folders from FRAMEGRAPH_SHADER_PATH, then
    the built-ins), compiling GLSL when needed."""
    return (library or default_library()).load(name, pass_name=pass_name).code


def create_shader_module(ctx, name: str, *, library: ShaderLibrary | None = None) -> Any:
    code = load_spirv(name, library=library)
    info = vk.VkShaderModuleCreateInfo(codeSize=len(code), pCode=code)
    return ctx.create("VkShaderModule", info, name=name)
