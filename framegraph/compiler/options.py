"""Compile options: plain named flags in one frozen object (Daxa-style), so a user comparing
strategies flips one field."""
from __future__ import annotations

from dataclasses import dataclass, asdict

from ..errors import FrameGraphError
from .barriers import STRATEGIES


@dataclass(frozen=True, slots=True, kw_only=True)
class CompileOptions:
    strategy: str = "batched"
    reorder: bool = False             # move independent passes to widen producer→consumer gaps
    alias_transients: bool = True     # place transients in shared heaps when lifetimes allow
    placement: str = "auto"           # auto | best_fit | first_fit (auto keeps the smaller)
    alias_across_queues: bool = False # also share memory between queues nothing orders yet: saves
                                      # memory, but the compiler must add semaphore waits for it
    concurrent_sharing: bool = False  # VK_SHARING_MODE_CONCURRENT instead of ownership transfers
    cull: bool = True

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise FrameGraphError(f"unknown strategy {self.strategy!r} (one of {', '.join(STRATEGIES)})")

    def to_dict(self) -> dict:
        return asdict(self)
