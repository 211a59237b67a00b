"""Ownership of the Vulkan objects one backend component creates through the context.

The context's registry destroys everything at the very end; an Owner lets a component (a
renderer, a target, a cache) give back exactly its own objects earlier, newest first.
"""
from __future__ import annotations

from typing import Any

from .registry import handle_value


class Owner:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self._objects: dict[tuple[str, int], Any] = {}   # insertion-ordered: creation order

    def adopt(self, kind: str, handle: Any) -> Any:
        """Take ownership of an object already registered with the context."""
        self._objects[(kind, handle_value(handle))] = handle
        return handle

    def create(self, kind: str, create_info: Any, *, name: str | None = None) -> Any:
        return self.adopt(kind, self.ctx.create(kind, create_info, name=name))

    def release(self, handle: Any, kind: str) -> None:
        """Destroy one object now; the caller vouches the GPU no longer uses it."""
        del self._objects[(kind, handle_value(handle))]
        self.ctx.release(handle, kind)

    def close(self) -> None:
        while self._objects:
            (kind, _), handle = self._objects.popitem()
            if not self.ctx.destroyed:
                self.ctx.release(handle, kind)

    def __len__(self) -> int:
        return len(self._objects)
