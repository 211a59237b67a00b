"""Reference-image comparison shared by the backend tests: on a mismatch, write the actual image
and a red heat map of the difference next to the references (tests/backend/actual/)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ACTUAL = HERE / "actual"
# References are lavapipe renders; another driver's float rounding (seen on the H100: up to 5 per
# channel on noise-heavy texels) is not a synchronization error, so it gets a wider margin.
ON_LAVAPIPE = "lvp_icd" in os.environ.get("VK_DRIVER_FILES", "lvp_icd")


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
