"""Operators for numeric and categorical parameters: Optuna's samplers, Gaussian mutation, crossover.

These make a search progress without any LLM, as algorithm configuration does. Each call is
stateless: the Optuna operator rebuilds a study from the parents it is given (their values and
scores as finished trials) and asks its sampler for the next point, so the search loop stays
the only owner of state and a resumed run asks the same questions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from opto.optimizers.evolution.operators import register
from opto.optimizers.evolution.operators.base import OperatorContext, Parent, Proposal, ProposalFailure
from opto.optimizers.evolution.space import ParamSpec, SearchSpace


def _tunable(space: SearchSpace) -> tuple[ParamSpec, ...]:
    return space.of_kind("number", "integer", "categorical")


def _clip(spec: ParamSpec, value: float) -> float | int:
    lo = spec.low if spec.low is not None else value
    hi = spec.high if spec.high is not None else value
    value = min(max(value, lo), hi)
    return int(round(value)) if spec.kind == "integer" else float(value)


def _best(parents: Sequence[Parent]) -> Parent:
    return max(parents, key=lambda p: float("-inf") if p.score is None else p.score)


class OptunaSampler:
    """The next point from an Optuna sampler (TPE by default) fitted to the parents' scores."""

    arity = 16
    needs_lm = False

    def __init__(self, sampler: str = "tpe", parents: int = 16, startup: int = 4, name: str = "optuna") -> None:
        if sampler not in ("tpe", "random", "qmc"):
            raise ValueError(f"optuna sampler {sampler!r} is not one of 'tpe', 'random', 'qmc'")
        self.name, self.sampler, self.arity, self.startup = name, sampler, parents, startup

    def applies_to(self, space: SearchSpace) -> bool:
        return bool(_tunable(space))

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        specs = _tunable(ctx.space)
        if not specs:
            return ProposalFailure(self.name, "not_applicable", "no numeric or categorical parameters")
        dists = {s.name: _distribution(s) for s in specs}
        seed = ctx.rng.getrandbits(31)
        if self.sampler == "tpe":
            sampler: Any = optuna.samplers.TPESampler(seed=seed, n_startup_trials=self.startup)
        elif self.sampler == "qmc":
            sampler = optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False)
        else:
            sampler = optuna.samplers.RandomSampler(seed=seed)
        study = optuna.create_study(direction="maximize", sampler=sampler)
        seen: set[str] = set()
        for p in parents:
            if p.id in seen or p.score is None or not math.isfinite(p.score):
                continue
            seen.add(p.id)
            params = {n: p.values[n] for n in dists}
            if all(_inside(s, params[s.name]) for s in specs):
                study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=p.score))
        trial = study.ask(dists)
        best = _best(parents)
        values = dict(best.values)
        values.update(trial.params)
        return Proposal(values, self.name, (best.id,))  # code and text come from the best parent


def _distribution(spec: ParamSpec) -> Any:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if spec.kind == "categorical":
        return CategoricalDistribution(list(spec.choices))
    if spec.kind == "integer":
        return IntDistribution(int(spec.low or 0), int(spec.high or 0), log=spec.log)
    return FloatDistribution(float(spec.low or 0.0), float(spec.high or 0.0), log=spec.log)


def _inside(spec: ParamSpec, value: Any) -> bool:
    return spec.check(value) is None


class GaussianMutation:
    """Move one or more numeric parameters by a Gaussian step (a tenth of the range); resample choices."""

    arity = 1
    needs_lm = False

    def __init__(self, scale: float = 0.1, rate: float = 0.5, name: str = "numeric_mutate") -> None:
        self.name, self.scale, self.rate = name, scale, rate

    def applies_to(self, space: SearchSpace) -> bool:
        return bool(_tunable(space))

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        specs = _tunable(ctx.space)
        if not specs:
            return ProposalFailure(self.name, "not_applicable", "no numeric or categorical parameters")
        parent = parents[0]
        values = dict(parent.values)
        chosen = [s for s in specs if ctx.rng.random() < self.rate] or [ctx.rng.choice(specs)]
        for s in chosen:
            values[s.name] = _mutate(s, values[s.name], ctx.rng, self.scale)
        return Proposal(values, self.name, (parent.id,))


def _mutate(spec: ParamSpec, value: Any, rng: random.Random, scale: float) -> Any:
    if spec.kind == "categorical":
        others = [c for c in spec.choices if c != value]
        return rng.choice(others) if others else value
    lo, hi = float(spec.low if spec.low is not None else value - 1), float(spec.high if spec.high is not None else value + 1)
    if spec.log and lo > 0:
        moved = math.exp(math.log(max(value, lo)) + rng.gauss(0, scale * (math.log(hi) - math.log(lo))))
    else:
        moved = value + rng.gauss(0, scale * (hi - lo))
    new = _clip(spec, moved)
    if spec.kind == "integer" and new == value:  # an integer step must move
        step = 1 if (rng.random() < 0.5 and value < hi) or value <= lo else -1
        new = _clip(spec, value + step)
    return new


class NumericCrossover:
    """Blend crossover (BLX-alpha) of two parents' numeric vectors; choices from either parent."""

    arity = 2
    needs_lm = False

    def __init__(self, alpha: float = 0.3, name: str = "numeric_crossover") -> None:
        self.name, self.alpha = name, alpha

    def applies_to(self, space: SearchSpace) -> bool:
        return bool(_tunable(space))

    def propose(self, parents: Sequence[Parent], ctx: OperatorContext) -> Proposal | ProposalFailure:
        specs = _tunable(ctx.space)
        if not specs:
            return ProposalFailure(self.name, "not_applicable", "no numeric or categorical parameters")
        if len(parents) < 2:
            return ProposalFailure(self.name, "too_few_parents", "crossover needs two parents")
        a, b = parents[0], parents[1]
        values = dict(_best([a, b]).values)  # code and text from the better parent
        for s in specs:
            x, y = a.values[s.name], b.values[s.name]
            if s.kind == "categorical":
                values[s.name] = x if ctx.rng.random() < 0.5 else y
            else:
                u = ctx.rng.uniform(-self.alpha, 1 + self.alpha)
                values[s.name] = _clip(s, x + u * (y - x))
        return Proposal(values, self.name, (a.id, b.id))


register("optuna", OptunaSampler)
register("numeric_mutate", GaussianMutation)
register("numeric_crossover", NumericCrossover)
