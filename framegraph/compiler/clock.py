"""Queue clocks: what a submit is already ordered after through timeline-semaphore waits.

Per other queue, the highest value waited at each stage mask (a vector clock with stage masks).
The submit builder asks it whether a new wait is implied by earlier ones; lifetimes ask it
which queue has waited for which work. Entries are kept per distinct mask, so its size is bounded
by queues x masks, however many waits a frame has (the lists it replaces grew like Fibonacci
numbers on frames that ping-pong between queues).
"""
from __future__ import annotations

from ..vk import Stage

_ALL_COMMANDS = int(Stage.ALL_COMMANDS)


class QueueClock:
    __slots__ = ("_waited",)

    def __init__(self, waited: dict | None = None) -> None:
        self._waited: dict[str, dict[int, int]] = waited if waited is not None else {}

    def copy(self) -> "QueueClock":
        return QueueClock({q: dict(m) for q, m in self._waited.items()})

    def add(self, queue: str, value: int, stages: int) -> None:
        """A wait for `queue` reaching `value`, blocking `stages` of later work."""
        masks = self._waited.setdefault(queue, {})
        stages = int(stages)
        if masks.get(stages, 0) < value:
            masks[stages] = value

    def merge(self, other: "QueueClock", stages: int) -> None:
        """Everything `other` (a signalled submit's clock) was ordered after, reached through a wait
        at `stages`."""
        for queue in other._waited:
            self.add(queue, other.highest(queue), stages)

    def highest(self, queue: str) -> int:
        """The highest value of `queue` waited for at any stages (0: none)."""
        masks = self._waited.get(queue)
        return max(masks.values()) if masks else 0

    def implies(self, queue: str, value: int, stages: int) -> bool:
        """Whether a wait for `queue` >= `value` at `stages` is already implied: some earlier wait
        reached that value and blocked those stages (or ALL_COMMANDS)."""
        stages = int(stages)
        for st, v in self._waited.get(queue, {}).items():
            if v >= value and ((stages & ~st) == 0 or st & _ALL_COMMANDS):
                return True
        return False

    def queues(self):
        return self._waited.keys()
