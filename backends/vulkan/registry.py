"""Explicit lifetimes: every Vulkan object the backend creates is entered here with the call
that destroys it, and leaves in reverse creation order (or earlier, on request).
Nothing relies on __del__: a forgotten object shows up in the live counts, not as a leak.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable

from vulkan import ffi


def handle_value(handle: Any) -> int:
    """A Vulkan handle as the uint64 that debug utils and our keys use."""
    try:
        return int(ffi.cast("uint64_t", handle))
    except TypeError:
        raise TypeError(f"a Vulkan handle (a cffi pointer or an int) was expected, got a "
                        f"{type(handle).__name__}") from None


@dataclass
class Entry:
    kind: str                      # the Vulkan type name, e.g. "VkBuffer"
    handle: Any
    destroy: Callable[[], None]
    name: str | None
    serial: int
    parent: tuple | None = None    # destroyed with its parent (a command buffer with its pool)


class ObjectRegistry:
    def __init__(self) -> None:
        # Insertion-ordered; keyed by (kind, handle value) because non-dispatchable
        # handles of different types may share a value on some drivers.
        self._entries: dict[tuple[str, int], Entry] = {}
        self._children: dict[tuple[str, int], list] = {}
        self._serial = 0

    def add(self, kind: str, handle: Any, destroy: Callable[[], None], name: str | None = None,
            parent: tuple[str, Any] | None = None) -> Any:
        """`parent` (kind, handle): an object whose destruction frees this one too (vkDestroyCommandPool
        frees its command buffers), so releasing the parent first must not free it again."""
        key = (kind, handle_value(handle))
        if key in self._entries:
            raise ValueError(f"{kind} {key[1]:#x} is already registered")
        parent_key = None if parent is None else (parent[0], handle_value(parent[1]))
        self._entries[key] = Entry(kind, handle, destroy, name, self._serial, parent_key)
        if parent_key is not None:
            self._children.setdefault(parent_key, []).append(key)
        self._serial += 1
        return handle

    def _key(self, handle: Any, kind: str | None) -> tuple[str, int]:
        value = handle_value(handle)
        if kind is not None:
            return (kind, value)
        matches = [key for key in self._entries if key[1] == value]
        if len(matches) != 1:
            raise KeyError(f"handle {value:#x} is {'ambiguous' if matches else 'not registered'}; give its kind")
        return matches[0]

    def entry(self, handle: Any, kind: str | None = None) -> Entry:
        return self._entries[self._key(handle, kind)]

    def release(self, handle: Any, kind: str | None = None) -> None:
        """Destroy one object now (the caller vouches the device no longer uses it)."""
        key = self._key(handle, kind)
        entry = self._entries.pop(key)
        entry.destroy()
        self._forget(key, entry)
        for child in self._children.pop(key, ()):
            self._entries.pop(child, None)

    def _forget(self, key, entry: Entry) -> None:
        # A handle value may come back as a new object: no stale parent/child links may name it.
        if entry.parent is not None:
            siblings = self._children.get(entry.parent)
            if siblings is not None and key in siblings:
                siblings.remove(key)

    def mark(self) -> int:
        """A point in creation order; release_since(mark) undoes everything created after."""
        return self._serial

    def release_since(self, mark: int) -> None:
        # Serials, not positions: objects released early must not shift the boundary.
        while self._entries:
            key = next(reversed(self._entries))
            if self._entries[key].serial < mark:
                break
            entry = self._entries.pop(key)
            self._forget(key, entry)
            self._children.pop(key, None)      # children are newer: already gone
            entry.destroy()

    def release_all(self) -> None:
        first_error: BaseException | None = None
        self._children.clear()
        while self._entries:
            _, entry = self._entries.popitem()
            try:
                entry.destroy()
            except BaseException as error:  # keep tearing down; report the first failure
                first_error = first_error or error
        if first_error is not None:
            raise first_error

    def live_counts(self) -> dict[str, int]:
        return dict(Counter(entry.kind for entry in self._entries.values()))

    def live_count(self, kind: str | None = None) -> int:
        if kind is None:
            return len(self._entries)
        return sum(1 for entry in self._entries.values() if entry.kind == kind)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):
        return iter(list(self._entries.values()))
