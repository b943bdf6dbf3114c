"""The settings of an evolutionary search, as one frozen pydantic model loadable from TOML.

Every field is documented here because this is what ``evolve.toml`` holds; an unknown or
ill-typed field is an error naming the field and what it accepts (``EvolutionConfig.from_toml``).
The config is stored in the run store (``{"kind": "evolution", ...}``) so a resumed run checks it
searches with the same settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Selection = Literal["tempered", "tournament", "uniform", "qube", "pareto"]
Survival = Literal["all", "aging", "best"]


class ConfigError(ValueError):
    """A config field is wrong; the message names the field and the fix."""


class Descriptor(BaseModel):
    """One MAP-Elites axis: a named score or artifact of the evaluation (or ``"code_length"``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    edges: tuple[float, ...] = Field(description="bin edges, increasing; fixed for the whole run")

    @field_validator("edges")
    @classmethod
    def _increasing(cls, edges: tuple[float, ...]) -> tuple[float, ...]:
        if len(edges) < 1 or any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("edges must be one or more strictly increasing numbers, e.g. [10, 20, 40]")
        return edges


class EvolutionConfig(BaseModel):
    """How the population is kept, which operators vary it, and which gates guard evaluation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(default=0, description="seeds every random choice; same seed + same results -> same run")
    islands: int = Field(default=4, ge=1, description="islands evolve apart (FunSearch); 1 = one population")
    batch_size: int = Field(default=8, ge=1, description="children proposed and evaluated together per generation")
    selection: Selection = Field(
        default="tempered",
        description="parent choice within an island: tempered (FunSearch clusters, softmax of score), "
        "tournament, uniform, qube (quality-uncertainty of each parent's children), pareto (rank tournament)",
    )
    survival: Survival = Field(
        default="all", description="who stays in an island: all, aging (regularized evolution: drop the oldest), "
        "best ((mu+lambda): keep the population_size best)",
    )
    population_size: int = Field(default=50, ge=2, description="island capacity under survival aging/best")
    tournament_size: int = Field(default=4, ge=1, description="contestants per tournament (selection tournament/pareto)")
    temperature: float = Field(default=0.1, gt=0, description="initial softmax temperature over cluster scores")
    temperature_period: int = Field(default=30_000, ge=1, description="programs after which the temperature restarts")
    qube_exploration: float = Field(default=1.0, ge=0, description="weight of the uncertainty term in qube selection")
    reset_period: int = Field(default=0, ge=0, description="generations between resets of the weakest half of the "
                              "islands from the best ones (0: never)")
    migration_period: int = Field(default=0, ge=0, description="generations between migrations of each island's best "
                                  "to the next island (0: never)")
    operators: tuple[str, ...] = Field(
        default=("optuna", "numeric_mutate", "numeric_crossover", "ast_perturb", "ast_swap", "literal_tuning"),
        description="operator names from opto.optimizers.evolution.operators.OPERATORS; those that do not "
        "apply to the search space (e.g. ast_* without code) or need an LM when there is none are skipped",
    )
    operator_options: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                                        description="operator name -> keyword options")
    bandit_exploration: float = Field(default=0.5, ge=0, description="UCB exploration weight of the operator bandit")
    max_attempts: int = Field(default=10, ge=1, description="proposals tried per child slot before a generation "
                              "goes ahead with fewer children")
    llm_concurrency: int = Field(default=4, ge=1, description="LLM proposals of a generation in flight at once "
                                 "(a thread pool; 1: one after another). A local model serialises its calls anyway")
    remember_rejections: int = Field(default=20, ge=0, description="recent rejected children shown to LLM operators")
    objectives: tuple[str, ...] = Field(default=(), description="named scores for the Pareto front (all maximized)")
    descriptors: tuple[Descriptor, ...] = Field(default=(), description="MAP-Elites axes; empty = no MAP-Elites grid")
    cascade_threshold: float | None = Field(default=None, description="children scoring below this on the cascade "
                                            "input are not fully evaluated (needs search(cascade=...))")
    probe_timeout_s: float = Field(default=10.0, gt=0, description="wall-clock limit of one child's run on "
                                   "the probe inputs (behavioural dedupe); a child past it gets its own hash")
    heldout_top: int = Field(default=3, ge=0, description="top candidates re-evaluated on search(heldout=...) at the end")
    space: dict[str, dict[str, Any]] = Field(default_factory=dict, description="parameter name -> space "
                                             "override, e.g. {low = 0, high = 1} or {choices = [...]}")

    @model_validator(mode="after")
    def _coherent(self) -> EvolutionConfig:
        if self.selection == "pareto" and len(self.objectives) < 2:
            raise ValueError("selection 'pareto' needs at least two objectives; set objectives = [\"a\", \"b\"]")
        if not self.operators:
            raise ValueError("operators is empty; name at least one, e.g. operators = [\"optuna\"]")
        return self

    def to_run_config(self, **extra: Any) -> dict[str, Any]:
        """The JSON kept in the run store's ``run`` row."""
        return {"kind": "evolution", **self.model_dump(mode="json"), **extra}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "config") -> EvolutionConfig:
        """Validate a mapping; errors name each bad field and say what it accepts."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as err:
            raise ConfigError(_explain(err, where)) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> EvolutionConfig:
        """Load ``evolve.toml``: its top level, or its ``[evolution]`` table if there is one."""
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise ConfigError(f"cannot read config file {path}: {err}") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path} is not valid TOML: {err}") from None
        return cls.from_mapping(data.get("evolution", data), where=str(path))

    def merged(self, **changes: Any) -> EvolutionConfig:
        """A copy with fields changed, validated like a file."""
        return self.from_mapping({**self.model_dump(), **changes})


def _explain(err: ValidationError, where: str) -> str:
    lines = [f"invalid evolution settings in {where}:"]
    fields = EvolutionConfig.model_fields
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"  {loc}: unknown field; known fields: {', '.join(sorted(fields))}")
            continue
        head = str(e["loc"][0]) if e["loc"] else ""
        hint = fields[head].description if head in fields else None
        lines.append(f"  {loc}: {e['msg']}" + (f" ({head}: {hint})" if hint else ""))
    return "\n".join(lines)
