"""Vulkan test harness: one shared context, and the validation log checked around every test.

Where Vulkan is expected (env CI or FRAMEGRAPH_EXPECT_LAVAPIPE=1) a missing loader or device is
an error, never a skip: a silent skip is not a pass. Elsewhere the Vulkan tests skip.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

import support  # tests/backend is on sys.path (not a package)

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

EXPECT_LAVAPIPE = bool(os.environ.get("CI")) or os.environ.get("FRAMEGRAPH_EXPECT_LAVAPIPE") == "1"

# FRAMEGRAPH_TEST_REPLAY=true|all: every Renderer the tests make without saying `replay=` replays
# (test_replay.py runs the backend suite again so: "all backend tests pass with replay on and off").
# Tests about recording itself (what is recorded each frame, within one command buffer) say
# replay=False.
REPLAY_DEFAULTS = {"true": True, "all": "all"}
_replay_env = os.environ.get("FRAMEGRAPH_TEST_REPLAY", "").lower()
if _replay_env and _replay_env not in REPLAY_DEFAULTS:
    raise RuntimeError(f"FRAMEGRAPH_TEST_REPLAY={_replay_env!r}: give 'true' or 'all'")
REPLAY_DEFAULT = REPLAY_DEFAULTS.get(_replay_env, False)

try:
    # `import vulkan` loads libvulkan: OSError when the loader is missing.
    from framegraph.backends.vulkan.validation import MESSAGES as _MESSAGES
    VULKAN_IMPORT_ERROR: BaseException | None = None
except (ImportError, OSError) as error:
    _MESSAGES = None
    VULKAN_IMPORT_ERROR = error
    if EXPECT_LAVAPIPE:
        raise RuntimeError(
            "Vulkan is required here (CI or FRAMEGRAPH_EXPECT_LAVAPIPE=1) but the Vulkan backend cannot be "
            f"imported: {error!r}. Run ./dev.sh setup.") from error


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.vulkan)


def _unavailable(reason: str):
    support.unavailable(f"no usable Vulkan: {reason}")


def _format(records) -> str:
    return "\n".join(f"  {record}" for record in records)


@pytest.fixture(scope="session", autouse=True)
def _replay_default():
    """Renderer(replay=...)'s default for this run (see REPLAY_DEFAULT)."""
    if REPLAY_DEFAULT is False or VULKAN_IMPORT_ERROR is not None:
        yield
        return
    from framegraph.backends.vulkan.frames import Renderer
    defaults = Renderer.__init__.__kwdefaults__
    before = defaults["replay"]
    defaults["replay"] = REPLAY_DEFAULT
    yield
    defaults["replay"] = before


@pytest.fixture(scope="session")
def vk_context():
    """The session's VulkanContext (validation per FRAMEGRAPH_VALIDATION, default on)."""
    if VULKAN_IMPORT_ERROR is not None:
        _unavailable(f"the loader is missing ({VULKAN_IMPORT_ERROR})")
    from framegraph.backends.vulkan import VulkanContext
    try:
        ctx = VulkanContext(app_name="framegraph-tests")
    except Exception as error:  # no driver, no device, no 1.3: all mean "cannot test here"
        _unavailable(f"no context could be created: {type(error).__name__}: {error}")
    yield ctx
    ctx.destroy()
    problems = ctx.messages.drain()
    if problems:
        pytest.fail("validation messages while destroying the session context:\n" + _format(problems),
                    pytrace=False)


@pytest.fixture(autouse=True)
def _validation_log_is_clean():
    """Fail the test if the layer reported any VALIDATION warning or error while it ran.

    Tests that provoke a message on purpose drain it themselves before returning.
    """
    log = _MESSAGES
    if log is None:
        yield
        return
    stale = log.drain()
    if stale:
        pytest.fail("validation messages were recorded before this test started (by fixture set-up "
                    "or an earlier test that did not check):\n" + _format(stale), pytrace=False)
    yield
    problems = log.drain()
    if problems:
        pytest.fail(f"{len(problems)} validation message(s) during the test:\n" + _format(problems),
                    pytrace=False)


@pytest.fixture(scope="session")
def expect_lavapipe() -> bool:
    """True where Vulkan must work (CI or FRAMEGRAPH_EXPECT_LAVAPIPE=1); test modules ask this
    fixture instead of importing conftest, whose module name is not unique in the suite."""
    return EXPECT_LAVAPIPE


@pytest.fixture(scope="session")
def triangle_sample():
    """samples/triangle.py as a module (samples/ is scripts, not a package)."""
    path = ROOT / "samples" / "triangle.py"
    spec = importlib.util.spec_from_file_location("framegraph_sample_triangle", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
