"""The options every LM backend shares, in one frozen, documented object (STYLE.md 8).

    lm = OpenAICompatible("gpt-4o-mini", options=LMOptions(budget=Budget(max_calls=100), repair=False))
    lm = OpenAICompatible("gpt-4o-mini", budget=Budget(max_calls=100))      # the same, as a shortcut

Every backend (``OpenAICompatible``, ``LocalLM``, ``ScriptedLM``, your ``BaseLM`` subclass) takes
``options=`` and the same fields as keyword shortcuts; a keyword given beside ``options`` wins.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any, TypedDict

from opto.llm.usage import Budget, Price, UsageTracker

if TYPE_CHECKING:
    from opto.llm.cache import CacheSpec


@dataclasses.dataclass(frozen=True)
class LMOptions:
    """What a backend does around each call, apart from its transport.

    cache: where replies are cached. None = the backend's default (the default on-disk cache, see
        opto.llm.cache, for model backends; none for ScriptedLM, so tests stay hermetic);
        True = the default location; False = off; a path; or a ResponseCache to share one.
    usage: the tracker that keeps this LM's lifetime totals; pass one tracker to several LMs to pool
        them. None = a new tracker per LM (``lm.usage``).
    budget: caps for this LM (a run gets its own with ``track_usage``); None = no cap.
    price: USD per million tokens, for cost accounting; None = the list price of a few known models
        (``opto.llm.usage.KNOWN_PRICES``), else cost unknown.
    repair: when a structured reply fails validation, send one repair request quoting the error.
    """

    cache: CacheSpec | None = None
    usage: UsageTracker | None = None
    budget: Budget | None = None
    price: Price | None = None
    repair: bool = True

    def __post_init__(self) -> None:
        for name, kind in (("usage", UsageTracker), ("budget", Budget), ("price", Price)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, kind):
                raise TypeError(f"LMOptions({name}=...) must be a {kind.__name__} or None, got {value!r:.80}")
        if not isinstance(self.repair, bool):
            raise TypeError(f"LMOptions(repair=...) must be True or False, got {self.repair!r:.80}")
        if self.cache is not None and not isinstance(self.cache, (bool, str, os.PathLike)):
            from opto.llm.cache import ResponseCache

            if not isinstance(self.cache, ResponseCache):
                raise TypeError(
                    f"LMOptions(cache=...) must be True, False, None, a path or a ResponseCache; got {self.cache!r:.80}"
                )

    def replace(self, **changes: Any) -> LMOptions:
        return dataclasses.replace(self, **changes)


class LMKeywords(TypedDict, total=False):
    """The fields of LMOptions as keyword shortcuts of every backend's constructor (same meaning)."""

    cache: CacheSpec | None
    usage: UsageTracker | None
    budget: Budget | None
    price: Price | None
    repair: bool


OPTION_NAMES = tuple(f.name for f in dataclasses.fields(LMOptions))


def merge_options(options: LMOptions | None, keywords: dict[str, Any], owner: str) -> LMOptions:
    """``options`` (or the defaults) with the keyword shortcuts applied; unknown keywords name the fix."""
    if options is not None and not isinstance(options, LMOptions):
        raise TypeError(f"{owner}(options=...) must be an LMOptions, got {type(options).__name__}")
    unknown = sorted(set(keywords) - set(OPTION_NAMES))
    if unknown:
        raise TypeError(
            f"{owner}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
            f"the shared LM options are {', '.join(OPTION_NAMES)} (see opto.llm.LMOptions)"
        )
    base = options if options is not None else LMOptions()
    return base.replace(**keywords) if keywords else base
