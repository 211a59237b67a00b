"""samples/multipass.py executed frame after frame under every strategy: each read-back frame matches
the committed reference, every compiled plan passes the verifier, nothing is left alive after."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)


try:
    from framegraph.backends import vulkan as backend  # noqa: F401
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
REFERENCE = HERE / "reference" / "multipass.png"
STRATEGIES = ("naive", "per_resource", "batched", "split")



def load_sample(name: str):
    path = ROOT / "samples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"framegraph_sample_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def compare_with_reference(actual: np.ndarray, reference_path: Path, stem: str) -> None:
    support.compare_with_reference(actual, reference_path, stem, tolerance=2, max_fraction=0.005)


@pytest.fixture(scope="module")
def multipass():
    return load_sample("multipass")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_frames_match_reference(vk_context, multipass, strategy):
    before = vk_context.live_objects()
    plans = []
    images, times = multipass.render_offscreen(vk_context, frames=5, size=(64, 64), strategy=strategy,
                                               on_compile=support.verified(plans), each_frame=True)
    assert len(plans) == 1, "an identical graph re-declared each frame compiles once"
    assert plans[0].strategy == strategy
    assert len(images) == 5
    for i, image in enumerate(images):
        assert image.shape == (64, 64, 4) and image.dtype == np.uint8
        compare_with_reference(image, REFERENCE, f"multipass.{strategy}.frame{i}")
    assert set(times) == {"noise", "sky", "raster", "post", "output.readback"}
    assert all(t >= 0 for t in times.values())
    assert vk_context.live_objects() == before, "renderer.close() must destroy everything it created"


def test_split_strategy_records_events(vk_context, multipass):
    plans = []
    # One queue for everything, as on lavapipe: on a GPU with async compute the compute pass moves to
    # its own queue and leaves no independent work between producer and consumer on one queue.
    from framegraph.profiles import DeviceProfile, QueueSlot
    family = vk_context.queues["graphics"].family
    single = DeviceProfile(name="single-queue", queues={q: QueueSlot(family=family)
                                                        for q in ("graphics", "compute", "transfer")})
    multipass.render_offscreen(vk_context, frames=2, strategy="split", on_compile=support.verified(plans), device=single)
    ops = [c.op for c in plans[0].commands()]
    assert "set_event" in ops and "wait_events" in ops and "reset_event" in ops


def test_sample_cli_writes_png(vk_context, multipass, tmp_path, capsys):
    # vk_context gates on a working driver; main() makes and destroys its own context (offscreen).
    from PIL import Image

    out = tmp_path / "mp.png"
    assert multipass.main(["--frames", "3", "--size", "32x24", "--strategy", "split", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert Image.open(out).size == (32, 24)
