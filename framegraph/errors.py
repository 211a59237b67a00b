"""The one exception users see for bad input (it names the pass, resource and field involved), and
the primitive type checks that raise it: the API, the graph file and device profiles share them."""
from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 256


class FrameGraphError(ValueError):
    """Invalid declaration, graph file or plan request. `pass_name`/`resource`/`field` say where."""

    def __init__(self, message: str, *, pass_name: str | None = None, resource: str | None = None,
                 field: str | None = None):
        where = []
        if pass_name is not None:
            where.append(f"pass '{pass_name}'")
        if resource is not None:
            where.append(f"resource '{resource}'")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.message = message
        self.pass_name = pass_name
        self.resource = resource
        self.field = field

    def at(self, *, pass_name: str | None = None, resource: str | None = None) -> "FrameGraphError":
        """The same error with the location filled in where it was unknown where it was raised
        (a descriptor knows its field, not the resource it describes)."""
        return FrameGraphError(self.message, pass_name=self.pass_name if self.pass_name is not None else pass_name,
                               resource=self.resource if self.resource is not None else resource, field=self.field)


def _is_bool(value) -> bool:
    # numpy.bool_ is not a bool subclass but must not pass as a count either.
    return isinstance(value, bool) or type(value).__name__ == "bool_"


def expect_int(value, field: str, lo: int, hi: int, **where) -> int:
    """`value` as a plain int in [lo, hi]. Integral types (numpy ints) pass; bools, floats (NaN and
    infinities included) and numeric strings do not: a count is never a guess."""
    if _is_bool(value) or not hasattr(type(value), "__index__"):
        raise FrameGraphError(f"must be an integer, got {show_value(value)}", field=field, **where)
    value = value.__index__()
    if not lo <= value <= hi:
        raise FrameGraphError(f"{value} is out of range [{lo}, {hi}]", field=field, **where)
    return value


def expect_bool(value, field: str, **where) -> bool:
    """Only true and false: `"false"` or `0` would otherwise read as a truth value."""
    if not _is_bool(value):
        raise FrameGraphError(f"must be true or false, got {show_value(value)}", field=field, **where)
    return bool(value)


def name_problem(value) -> str | None:
    """Why `value` cannot name a graph, pass or resource (None if it can). Names reach debug labels
    and messages: printable UTF-8 text of 1 to MAX_NAME_LENGTH characters."""
    if not isinstance(value, str):
        return f"must be a string, got {show_value(value)}"
    if not 1 <= len(value) <= MAX_NAME_LENGTH:
        return f"must be 1 to {MAX_NAME_LENGTH} characters, got {len(value)}"
    if not value.isprintable() and any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        return f"must be printable text (no control characters or lone surrogates), got {value!r}"
    return None


# Names that passed name_problem: a frame re-declares the same names every frame, so a repeat is
# one set lookup. Only exact `str`s go in (validity depends on the text alone, and a str subclass
# could compare equal to a valid name while being something else); cleared when it grows past
# the bound, so a frame that makes up new names each frame cannot grow it without limit.
# The builder's hot paths test membership inline (`type(v) is str and v in known_names`).
MAX_KNOWN_NAMES = 4096
known_names: set[str] = set()


def expect_name(value, field: str = "name", **where) -> str:
    if type(value) is str and value in known_names:
        return value
    problem = name_problem(value)
    if problem:
        raise FrameGraphError(problem, field=field, **where)
    if type(value) is str:
        if len(known_names) >= MAX_KNOWN_NAMES:
            known_names.clear()
        known_names.add(value)
    return value


def show_value(value) -> str:
    """A value for a message: its repr, cut short (a fuzzed input may be megabytes)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
