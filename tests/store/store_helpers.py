"""Builders for run-store tests."""

from opto.runtime import Candidate, EvalResult


def make_candidates(n: int, prefix: str = "c") -> list[Candidate]:
    return [Candidate({"x": i, "code": f"def f():\n    return {i}"}, id=f"{prefix}{i}") for i in range(n)]


def ok_result(cid: str, score: float, **scores: float) -> EvalResult:
    return EvalResult(cid, True, score=score, scores={"score": score, **scores}, feedback=f"fb {cid}", duration_s=0.1)
