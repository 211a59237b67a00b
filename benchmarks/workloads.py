"""Synthetic frames whose GPU time is decided by barrier placement: many small but real compute
dispatches (a few thousand invocations, each doing `iterations` rounds of dependent arithmetic)
arranged so that strategies differ. Shared by benchmarks/strategies.py and the tests.

    chain    one long chain: every pass reads the previous pass's storage buffer, writes the next
    streams  several independent image chains interleaved pass by pass (batched can merge their
             barriers; naive and per-pass barriers serialise them)
    split    a producer, independent long-running work, then the producer's consumer (an event lets
             the consumer start without waiting for the independent work); repeated in groups
    mips     a mip-chain downsample: pass m samples mip m-1 and writes mip m (mip-granular layouts)

Every workload ends with a `resolve` pass writing the frame's output image (which keeps everything
else from being culled). `workload.builder(**params)` returns the `build(fg, frame)` a Renderer takes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Callable

IMAGE_FORMAT = "R16G16B16A16_SFLOAT"
VEC4 = 16                     # bytes per buffer element
READ_STORAGE = "compute_shader_read_storage"
WRITE_STORAGE = "compute_shader_write_storage"
READ_SAMPLED = "compute_shader_read_sampled"


@dataclass(frozen=True)
class Workload:
    name: str
    summary: str
    declare: Callable            # declare(fg, frame, **params) -> final handle of frame.output
    defaults: dict = field(default_factory=dict)
    check: Callable | None = None

    def params(self, **overrides) -> dict:
        unknown = set(overrides) - set(self.defaults)
        if unknown:
            raise ValueError(f"workload {self.name!r} has no parameter(s) {sorted(unknown)}; "
                             f"it takes {sorted(self.defaults)}")
        params = {k: type(self.defaults[k])(v) for k, v in {**self.defaults, **overrides}.items()}
        if self.check is not None:
            self.check(params)
        return params

    def builder(self, **overrides) -> Callable:
        params = self.params(**overrides)

        def build(fg, frame):
            return self.declare(fg, frame, **params)
        build.__name__ = f"build_{self.name}"
        return build


# -- recording helpers (closures over plain values: the callbacks run at record time) --------------

def _buffer_push(count: int, iterations: int, seed: float) -> bytes:
    return struct.pack("IIf", count, iterations, seed)


def _image_push(iterations: int, seed: float) -> bytes:
    return struct.pack("If", iterations, seed)


def _dispatch_1d(shader: str, bindings: dict, count: int, push: bytes):
    def record(ctx):
        ctx.dispatch_threads(count, pipeline=ctx.compute_pipeline(shader), bindings=bindings, push=push)
    return record


def _dispatch_2d(shader: str, bindings: dict, width: int, height: int, push: bytes | None):
    def record(ctx):
        ctx.dispatch_threads(width, height, pipeline=ctx.compute_pipeline(shader), bindings=bindings, push=push)
    return record


def _seed(*parts: int) -> float:
    return ((sum(p * 7919 ** i for i, p in enumerate(parts)) % 997) + 1) / 997.0


def _resolve(fg, frame, shader: str, reads: list, bindings: dict, push: bytes | None = None):
    width, height = frame.extent
    with fg.add_pass("resolve") as p:
        for handle, access in reads:
            p.reads(handle, access)
        out = p.writes(frame.output, WRITE_STORAGE, discard=True)
        p.execute(_dispatch_2d(shader, {**bindings, max(bindings) + 1: frame.output.name}, width, height, push))
    return out


# -- the workloads ----------------------------------------------------------------------------------

def declare_chain(fg, frame, *, passes: int, elements: int, iterations: int):
    size = elements * VEC4
    prev = None
    for k in range(passes):
        buf = fg.create_buffer(f"chain{k}", size=size)
        with fg.add_pass(f"link{k}") as p:
            push = _buffer_push(elements, iterations, _seed(k))
            if prev is None:
                buf = p.writes(buf, WRITE_STORAGE, discard=True)
                p.execute(_dispatch_1d("bench_fill_buffer.comp", {0: buf.name}, elements, push))
            else:
                p.reads(prev, READ_STORAGE)
                buf = p.writes(buf, WRITE_STORAGE, discard=True)
                p.execute(_dispatch_1d("bench_step_buffer.comp", {0: prev.name, 1: buf.name}, elements, push))
        prev = buf
    return _resolve(fg, frame, "bench_resolve_buffer.comp", [(prev, READ_STORAGE)], {0: prev.name},
                    struct.pack("I", elements))


def _check_chain(p):
    if p["passes"] < 1 or p["elements"] < 1:
        raise ValueError("chain needs passes >= 1 and elements >= 1")


def declare_streams(fg, frame, *, streams: int, steps: int, extent: int, iterations: int):
    # Step k of every stream lives in one array image (a layer per stream): pass (k, j) samples
    # layer j of step k-1 and writes layer j of step k, so streams never depend on each other.
    images = [fg.create_image(f"step{k}", format=IMAGE_FORMAT, extent=(extent, extent), layers=streams)
              for k in range(steps)]
    for k in range(steps):
        for j in range(streams):
            push = _image_push(iterations, _seed(k, j))
            with fg.add_pass(f"s{j}.step{k}") as p:
                if k == 0:
                    images[0] = p.writes(images[0], WRITE_STORAGE, layers=(j, 1), discard=True)
                    p.execute(_dispatch_2d("bench_fill_image.comp", {0: images[0].name}, extent, extent, push))
                else:
                    p.reads(images[k - 1], READ_SAMPLED, layers=(j, 1))
                    images[k] = p.writes(images[k], WRITE_STORAGE, layers=(j, 1), discard=True)
                    p.execute(_dispatch_2d("bench_step_image.comp", {0: images[k - 1].name, 1: images[k].name},
                                           extent, extent, push))
    last = images[-1]
    return _resolve(fg, frame, "bench_resolve_array.comp", [(last, READ_SAMPLED)], {0: last.name})


def _check_streams(p):
    if p["streams"] < 2:      # the resolve samples the streams as an array view: two layers at least
        raise ValueError("streams needs streams >= 2 (one stream is the chain workload)")
    if p["steps"] < 1 or p["extent"] < 1:
        raise ValueError("streams needs steps >= 1 and extent >= 1")


def declare_split(fg, frame, *, groups: int, producer_extent: int, producer_iterations: int,
                  side_passes: int, side_elements: int, side_iterations: int, consumer_iterations: int):
    # Group g: produce (reads the previous group's result) -> side work that nothing in the group
    # reads (each side pass writes its own range of one buffer) -> consume (reads the producer).
    # A pipeline barrier before `consume` waits for the side work too; an event waits for `produce` only,
    # so `consume` can run beside the side work: about max(side, produce + consume) per group instead of
    # max(side, produce) + consume. The side passes have few invocations but long loops (latency-bound),
    # so they leave most of a large GPU idle for the consumer to use.
    e = producer_extent
    side_size = side_elements * VEC4
    side = fg.create_buffer("side", size=groups * side_passes * side_size)
    previous = None
    for g in range(groups):
        produced = fg.create_image(f"produced{g}", format=IMAGE_FORMAT, extent=(e, e))
        consumed = fg.create_image(f"consumed{g}", format=IMAGE_FORMAT, extent=(e, e))
        with fg.add_pass(f"produce{g}") as p:
            push = _image_push(producer_iterations, _seed(g, 1))
            if previous is None:
                produced = p.writes(produced, WRITE_STORAGE, discard=True)
                p.execute(_dispatch_2d("bench_fill_image.comp", {0: produced.name}, e, e, push))
            else:
                p.reads(previous, READ_SAMPLED)
                produced = p.writes(produced, WRITE_STORAGE, discard=True)
                p.execute(_dispatch_2d("bench_step_image.comp", {0: previous.name, 1: produced.name}, e, e, push))
        for i in range(side_passes):
            rng = ((g * side_passes + i) * side_size, side_size)
            with fg.add_pass(f"side{g}.{i}") as p:
                side = p.writes(side, WRITE_STORAGE, range=rng, discard=True)
                p.execute(_dispatch_1d("bench_fill_buffer.comp", {0: side.name}, side_elements,
                                       _buffer_push(side_elements, side_iterations, _seed(g, i, 2))))
        with fg.add_pass(f"consume{g}") as p:
            p.reads(produced, READ_SAMPLED)
            consumed = p.writes(consumed, WRITE_STORAGE, discard=True)
            p.execute(_dispatch_2d("bench_step_image.comp", {0: produced.name, 1: consumed.name}, e, e,
                                   _image_push(consumer_iterations, _seed(g, 3))))
        previous = consumed
    return _resolve(fg, frame, "bench_resolve_pair.comp", [(previous, READ_SAMPLED), (side, READ_STORAGE)],
                    {0: previous.name, 1: side.name}, struct.pack("I", groups * side_passes * side_elements))


def _check_split(p):
    if p["groups"] < 1 or p["side_passes"] < 1:
        raise ValueError("split needs groups >= 1 and side_passes >= 1")
    if p["side_elements"] % 16:
        raise ValueError("split needs side_elements to be a multiple of 16 (buffer offset alignment)")


def declare_mips(fg, frame, *, extent: int, mips: int, iterations: int):
    pyramid = fg.create_image("pyramid", format=IMAGE_FORMAT, extent=(extent, extent), mips=mips)
    with fg.add_pass("base") as p:
        pyramid = p.writes(pyramid, WRITE_STORAGE, mips=(0, 1), discard=True)
        p.execute(_dispatch_2d("bench_fill_image.comp", {0: pyramid.name}, extent, extent,
                               _image_push(iterations, 0.5)))
    for m in range(1, mips):
        size = max(1, extent >> m)
        with fg.add_pass(f"down{m}") as p:
            p.reads(pyramid, READ_SAMPLED, mips=(m - 1, 1))
            pyramid = p.writes(pyramid, WRITE_STORAGE, mips=(m, 1), discard=True)
            # Binding 0 is the sampled access (mip m-1), binding 1 the storage one (mip m).
            p.execute(_dispatch_2d("bench_step_image.comp", {0: pyramid.name, 1: pyramid.name}, size, size,
                                   _image_push(iterations, _seed(m))))
    return _resolve(fg, frame, "bench_resolve_mips.comp", [(pyramid, READ_SAMPLED)], {0: pyramid.name})


def _check_mips(p):
    if not 1 <= p["mips"] <= p["extent"].bit_length():
        raise ValueError(f"mips needs 1 <= mips <= {p['extent'].bit_length()} for extent {p['extent']}")


WORKLOADS: dict[str, Workload] = {w.name: w for w in (
    Workload("chain", "64 dependent compute passes, storage buffer to storage buffer", declare_chain,
             dict(passes=64, elements=4096, iterations=64), _check_chain),
    Workload("streams", "8 independent image chains of 16 steps, interleaved pass by pass", declare_streams,
             dict(streams=8, steps=16, extent=64, iterations=64), _check_streams),
    Workload("split", "producer, independent long side work, consumer; 4 groups in sequence", declare_split,
             dict(groups=4, producer_extent=256, producer_iterations=512, side_passes=4, side_elements=4096,
                  side_iterations=2048, consumer_iterations=1024), _check_split),
    Workload("mips", "a 10-mip downsample chain: pass m samples mip m-1 and writes mip m", declare_mips,
             dict(extent=1024, mips=10, iterations=16), _check_mips),
)}

# Small enough for lavapipe in tests (a CPU device): the same structure, a fraction of the work.
TINY: dict[str, dict] = {
    "chain": dict(passes=8, elements=256, iterations=2),
    "streams": dict(streams=3, steps=3, extent=16, iterations=2),
    "split": dict(groups=2, producer_extent=16, producer_iterations=2, side_passes=3, side_elements=64,
                  side_iterations=2, consumer_iterations=2),
    "mips": dict(extent=64, mips=7, iterations=2),
}


def parse_params(pairs: list[str] | None) -> dict:
    """`--param key=value` pairs as a dict (values converted by the workload)."""
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out
