"""What the backend tests share: one rule for missing prerequisites (an error where Vulkan is
expected, a skip elsewhere), loading a sibling test module, the on_compile hook that verifies every
plan, and reference-image comparison that writes the actual image and a red heat map of the
difference to tests/backend/actual/."""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ACTUAL = HERE / "actual"
# References are lavapipe renders; another driver's float rounding (seen on the H100: up to 5 per
# channel on noise-heavy texels) is not a synchronization error, so it gets a wider margin.
ON_LAVAPIPE = "lvp_icd" in os.environ.get("VK_DRIVER_FILES", "lvp_icd")
# Where Vulkan must work (CI, or ./dev.sh test): nothing it needs may be skipped, a skip is not a pass.
EXPECT_VULKAN = bool(os.environ.get("CI")) or os.environ.get("FRAMEGRAPH_EXPECT_LAVAPIPE") == "1"


def unavailable(reason: str):
    """A prerequisite is missing: fail where Vulkan is expected, skip (the test or module) elsewhere."""
    if EXPECT_VULKAN:
        pytest.fail(f"required here (CI or FRAMEGRAPH_EXPECT_LAVAPIPE=1) but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def need_glslc() -> None:
    """For a test that compiles GLSL at run time: glslc, or a skip where Vulkan is not required
    (the lent GPU machine has none; CI and ./dev.sh test install it)."""
    if shutil.which("glslc") is None:
        unavailable("glslc is not installed (apt-get install glslc)")


def load_module(name: str, path: Path):
    """Import a sibling test module by path (tests/backend is not a package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def verified(plans: list):
    """An on_compile hook: keep each compiled plan in `plans` and fail on anything the verifier
    finds, the real-driver rules included."""
    from framegraph.verifier import verify_plan

    def check(plan):
        plans.append(plan)
        problems = verify_plan(plan.to_dict(), driver_rules=True)
        assert not problems, "verifier: " + "; ".join(str(p) for p in problems)
    return check


def compare_with_reference(actual: np.ndarray, reference: Path, stem: str, *, tolerance: int,
                           max_fraction: float) -> None:
    """Fail unless at most `max_fraction` of the pixels differ from `reference` by more than
    `tolerance` per channel (widened to 8 off lavapipe). A missing reference is written and fails."""
    from PIL import Image

    from framegraph.backends.vulkan import save_png

    if not reference.exists():
        save_png(actual, reference)
        pytest.fail(f"no reference: wrote {reference}; look at it, then commit it")
    tolerance = tolerance if ON_LAVAPIPE else max(tolerance, 8)
    expected = np.asarray(Image.open(reference).convert("RGBA"))
    assert actual.shape == expected.shape, f"shape {actual.shape} != reference {expected.shape}"
    diff = np.abs(actual.astype(np.int16) - expected.astype(np.int16)).max(axis=2)
    differing = int((diff > tolerance).sum())
    if differing > max_fraction * diff.size:
        save_png(actual, ACTUAL / f"{stem}.png")
        heat = np.zeros_like(actual)
        heat[..., 0] = np.clip(diff * 8, 0, 255)
        heat[..., 3] = 255
        save_png(heat, ACTUAL / f"{stem}.diff.png")
        pytest.fail(f"{differing} of {diff.size} pixels differ from {reference.name} by more than {tolerance} "
                    f"(max {int(diff.max())}); wrote {ACTUAL / (stem + '.png')} and its .diff.png")
