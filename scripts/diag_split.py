"""Diagnose split-barrier renders that differ from batched on a real GPU: render the deferred
sample's first frame under batched, split, and split variants whose plans are rewritten after
compilation (events moved next to their waits; layout transitions taken out of events).

    python scripts/diag_split.py [--streams]   # --streams: SSAO on a second queue of the graphics
                                               # family (timeline semaphores between the streams)
Writes each render as PNG under $OUT when it is set."""
import dataclasses
import os
import sys

import numpy as np

import framegraph
import framegraph.plan
from framegraph.backends.vulkan import VulkanContext
from framegraph.backends.vulkan import frames as frames_mod
from framegraph.plan import BarrierCmd, SetEventCmd, WaitEventsCmd
from samples import common, deferred

real_compile = framegraph.compile


def rewrite(plan, mode):
    subs = []
    for s in plan.submits:
        cmds = list(s.commands)
        if mode == "set_at_wait":
            sets = {c.event: c for c in cmds if isinstance(c, SetEventCmd)}
            out = []
            for c in cmds:
                if isinstance(c, SetEventCmd):
                    continue
                if isinstance(c, WaitEventsCmd):
                    out += [sets[e] for e in c.events]
                out.append(c)
            cmds = out
        elif mode == "events_to_barriers":
            out = []
            for c in cmds:
                if isinstance(c, SetEventCmd) or type(c).__name__ == "ResetEventCmd":
                    continue
                if isinstance(c, WaitEventsCmd):
                    dep = c.dependencies[0]
                    for d in c.dependencies[1:]:
                        dep = dep.merged(d)
                    out.append(BarrierCmd(dependency=dep, reasons=c.reasons))
                    continue
                out.append(c)
            cmds = out
        elif mode in ("no_layout_events", "no_undefined_events") or mode.startswith("pull:"):
            def moved(b):
                if b.old_layout == b.new_layout:
                    return False
                if mode.startswith("pull:"):       # only this resource's transitions leave the events
                    return b.resource == mode[5:]
                return mode == "no_layout_events" or b.old_layout.name == "UNDEFINED"
            pulled = {}
            out = []
            for c in cmds:
                if isinstance(c, SetEventCmd):
                    keep = tuple(b for b in c.dependency.images if not moved(b))
                    pulled[c.event] = tuple(b for b in c.dependency.images if moved(b))
                    c = dataclasses.replace(c, dependency=dataclasses.replace(c.dependency, images=keep))
                elif isinstance(c, WaitEventsCmd):
                    deps = tuple(dataclasses.replace(d, images=tuple(b for b in d.images if not moved(b)))
                                 for d in c.dependencies)
                    c = dataclasses.replace(c, dependencies=deps)
                    extra = tuple(b for e in c.events for b in pulled.get(e, ()))
                    out.append(c)
                    if extra:
                        out.append(BarrierCmd(dependency=framegraph.plan.Dependency(images=extra), reasons=()))
                    continue
                out.append(c)
            cmds = out
        elif mode == "barrier_before_sets":   # a barrier right after a run of sets goes before them
            out = []
            for c in cmds:
                if isinstance(c, BarrierCmd) and out and isinstance(out[-1], SetEventCmd):
                    k = len(out)
                    while k > 0 and isinstance(out[k - 1], SetEventCmd):
                        k -= 1
                    out.insert(k, c)
                    continue
                out.append(c)
            cmds = out
        subs.append(dataclasses.replace(s, commands=tuple(cmds)))
    return dataclasses.replace(plan, submits=tuple(subs))


STREAMS = "--streams" in sys.argv[1:]


def render(ctx, strategy, mode=None):
    def patched(graph, **kw):
        if mode in ("no_aliasing", "first_fit"):   # the same strategy, other memory placement
            options = kw.pop("options", None) or framegraph.CompileOptions()
            change = {"alias_transients": False} if mode == "no_aliasing" else {"placement": "first_fit"}
            kw["options"] = dataclasses.replace(options, strategy=kw.pop("strategy", options.strategy), **change)
            return real_compile(graph, **kw)
        plan = real_compile(graph, **kw)
        return rewrite(plan, mode) if mode else plan
    profile = None
    if STREAMS:
        family = ctx.queues["graphics"].family
        profile = {"name": "separate-compute", "queues": {
            "graphics": {"family": family, "index": 0}, "compute": {"family": family, "index": 1},
            "transfer": {"family": family, "index": 0}}}
    frames_mod.framegraph.compile = patched
    try:
        images, _ = common.render_offscreen(ctx, deferred.build, size=(128, 128), frames=1, strategy=strategy,
                                            device=profile, time=1.0, shadow_size=512)
    finally:
        frames_mod.framegraph.compile = real_compile
    if os.environ.get("OUT"):
        from framegraph.backends.vulkan import save_png
        name = f"diag_{'streams_' if STREAMS else ''}{strategy}_{(mode or 'plain').replace(':', '_')}.png"
        save_png(images[-1], os.path.join(os.environ["OUT"], name))
    return images[-1].astype(int)


with VulkanContext() as ctx:
    print("device:", ctx.device_name, "(SSAO on a second stream)" if STREAMS else "(one stream)")
    base = render(ctx, "batched")
    for strategy, mode in (("naive", None), ("split", None), ("split", "set_at_wait"), ("split", "events_to_barriers"),
                           ("split", "no_layout_events"), ("split", "no_undefined_events"),
                           ("split", "no_aliasing"), ("batched", "no_aliasing"), ("split", "first_fit"),
                           ("split", "pull:bloom"), ("split", "pull:ldr"), ("split", "barrier_before_sets"),
                           ("batched", None)):
        img = render(ctx, strategy, mode)
        diff = np.abs(img - base)
        print(f"{strategy:8} {mode or '-':20} pixels differing by >3: {(diff > 3).any(axis=-1).sum():6d}  max {diff.max()}")
    print("validation messages:", len(ctx.messages.drain()))
