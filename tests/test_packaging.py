"""What `pip install framegraph` ships: every package directory of the checkout (the backend, the
samples and the built-in shaders install inside framegraph/ through package-dir), the shaders as
package data, Pillow as a dependency, and no sys.path edits in what is installed.

The wheel itself is built and run from a fresh venv by `test_wheel_runs_from_a_fresh_venv` (marker
`wheel`, deselected by default: it installs from the package index; .ci/run runs it)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:            # Python 3.10: setuptools (the build backend) reads TOML itself
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def setuptools_config():
    if tomllib is None:
        from setuptools.config.pyprojecttoml import load_file
        return load_file(str(ROOT / "pyproject.toml"))
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _package_of(directory: Path, package_dir: dict[str, str]) -> str | None:
    """The package name a directory installs as, through the longest package-dir prefix."""
    rel = directory.relative_to(ROOT).as_posix()
    best = None
    for name, folder in package_dir.items():
        if rel == folder or rel.startswith(folder + "/"):
            if best is None or len(folder) > len(package_dir[best]):
                best = name
    if best is None:
        return None
    tail = rel[len(package_dir[best]):].strip("/")
    return best + ("." + tail.replace("/", ".") if tail else "")


def test_every_package_directory_is_listed(setuptools_config):
    tool = setuptools_config["tool"]["setuptools"]
    listed = set(tool["packages"])
    found = set()
    for top in ("framegraph", "backends", "samples", "shaders"):
        for init in (ROOT / top).rglob("__init__.py"):
            name = _package_of(init.parent, tool["package-dir"])
            assert name is not None, f"{init.parent} installs nowhere: add it to package-dir"
            found.add(name)
    assert found - listed == set(), f"package directories missing from pyproject's packages: {found - listed}"
    assert listed - found == set(), f"listed packages with no directory: {listed - found}"
    assert {"framegraph.compiler", "framegraph.verifier", "framegraph.viz", "framegraph.samples",
            "framegraph.shaders", "framegraph.backends.vulkan"} <= listed


def test_shaders_are_package_data(setuptools_config):
    patterns = setuptools_config["tool"]["setuptools"]["package-data"]["framegraph.shaders"]
    shaders = [p for p in (ROOT / "shaders").iterdir() if p.is_file() and p.name != "__init__.py"]
    uncovered = [p.name for p in shaders if not any(p.match(pattern) for pattern in patterns)]
    assert shaders and not uncovered, f"shader files the wheel would leave out: {uncovered}"


def test_pillow_is_a_dependency(setuptools_config):
    deps = [d.lower() for d in setuptools_config["project"]["dependencies"]]
    assert any(d.startswith("pillow") for d in deps)


def test_installed_code_does_not_edit_sys_path():
    offenders = []
    for folder in ("samples", "framegraph/viz", "backends"):
        for path in (ROOT / folder).rglob("*.py"):
            if "sys.path.insert" in path.read_text() or "sys.path.append" in path.read_text():
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, f"sys.path edits in installed code: {offenders}"


def test_samples_import_as_framegraph_samples():
    # The same module objects from the checkout and from a wheel: samples import each other through
    # the package, and `demo` runs the installed one.
    from framegraph.samples import common, deferred, demo, shadow_map
    assert deferred.common is common and deferred.shadow_map is shadow_map and demo.deferred is deferred


@pytest.mark.wheel
def test_wheel_runs_from_a_fresh_venv(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.setdefault("PYTHON", sys.executable if sys.prefix == sys.base_prefix else
                   str(Path(sys.base_prefix) / "bin" / "python3"))
    result = subprocess.run(["bash", str(ROOT / "scripts" / "check_wheel.sh"), str(tmp_path / "wheel")],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    print(result.stdout[-6000:])
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    assert "[wheel] OK" in result.stdout
