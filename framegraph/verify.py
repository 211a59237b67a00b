"""Entry point of the plan verifier; the simulator itself lives in framegraph/verifier/."""
from .verifier import KINDS, Problem, verify_plan

__all__ = ["KINDS", "Problem", "verify_plan"]
