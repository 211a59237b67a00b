"""The one exception users see for bad input: it names the pass and the resource involved."""
from __future__ import annotations


class FrameGraphError(ValueError):
    """Invalid declaration, graph file or plan request. `pass_name`/`resource` say where."""

    def __init__(self, message: str, *, pass_name: str | None = None, resource: str | None = None):
        where = []
        if pass_name is not None:
            where.append(f"pass '{pass_name}'")
        if resource is not None:
            where.append(f"resource '{resource}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.pass_name = pass_name
        self.resource = resource
