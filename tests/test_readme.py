"""The README's example of declaring a frame runs as written and its plan verifies."""
import re
from pathlib import Path

from framegraph.verifier import verify_plan

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_compiles_and_verifies():
    example = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    scope: dict = {}
    exec(compile(example, "README.md", "exec"), scope)
    plan = scope["plan"]
    assert [p.name for p in plan.passes] == ["shade", "bloom_down1", "bloom_down2", "bloom_down3", "tonemap"]
    assert verify_plan(plan.to_dict()) == []
