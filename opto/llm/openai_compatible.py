"""Any OpenAI-compatible chat server: OpenAI, vLLM, Ollama, llama.cpp (``llama-server`` or
``llama_cpp.server``), LiteLLM proxy — on the official ``openai`` client.

Settings come from arguments first, then from these environment variables, read when the object is
built (never at import): ``OPTO_LLM_MODEL``, ``OPTO_LLM_BASE_URL`` (else ``OPENAI_BASE_URL``),
``OPTO_LLM_API_KEY`` (else ``OPENAI_API_KEY``, see below), ``OPTO_LLM_TIMEOUT``, ``OPTO_LLM_MAX_RETRIES``.

Which key goes where: ``OPENAI_API_KEY`` is an OpenAI credential, so it is only sent to OpenAI's own
API (no base URL, or host ``api.openai.com``) or to the URL in ``OPENAI_BASE_URL`` (OpenAI's own pair
of variables, as the openai client does). Any other server gets only the key configured for it
(``api_key=``, ``api_key_env=``, ``OPTO_LLM_API_KEY``), else the placeholder ``"not-needed"``.

Retries: the openai client's own machinery (exponential backoff with jitter, honours Retry-After)
covers 408/409/429/5xx, timeouts and connection errors. It does not retry a 200 whose body is not a
chat completion, so those ("malformed_reply") are retried here with the same backoff shape.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
import urllib.parse
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import openai

from opto.llm.base import BaseLM
from opto.llm.errors import LMConfigError
from opto.llm.options import LMOptions
from opto.llm.protocol import FailureKind, LMFailure, Request
from opto.llm.structured import SchemaDialect, response_format
from opto.llm.transport import MalformedReply, RawReply, TransportFailure, read_completion

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from opto.llm.options import LMKeywords

SchemaMode = Literal["auto", "json_schema", "json_object", "prompt"]
_FALLBACK: dict[str, list[SchemaDialect]] = {
    "auto": ["json_schema", "json_object", "prompt"],
    "json_schema": ["json_schema"],
    "json_object": ["json_object"],
    "prompt": ["prompt"],
}
NO_KEY = "not-needed"  # sent to servers configured without a key: they ignore it, the client insists on one
OPENAI_HOST = "api.openai.com"


class _Secret(str):
    """A str whose repr hides it, so an API key never shows up in reprs, tracebacks or logs."""

    def __repr__(self) -> str:
        return "'***'"


class OpenAICompatible(BaseLM):
    """Chat completions against ``base_url`` (None = api.openai.com).

    schema_mode: how structured replies are requested. "auto" tries OpenAI's ``json_schema`` and, if
    the server rejects it (400/422, e.g. llama-cpp-python), falls back to llama.cpp's
    ``{"type": "json_object", "schema": ...}``, then to the prompt alone; the working form is kept.
    extra_body: extra JSON fields for server-specific options (e.g. vLLM's ``top_k``).
    api_key_env: the one variable the key comes from (e.g. ``TRACE_CUSTOMLLM_API_KEY``) instead of the
    usual ones; also names where an ``api_key=`` came from, so an unpickled copy can re-read it.
    """

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        *,
        schema_mode: SchemaMode = "auto",
        extra_body: Mapping[str, Any] | None = None,
        api_key_env: str | None = None,
        options: LMOptions | None = None,
        **keywords: Unpack[LMKeywords],
    ) -> None:
        env = os.environ
        model = model or env.get("OPTO_LLM_MODEL")
        if not model:
            raise LMConfigError(
                "OpenAICompatible needs a model name: pass model='gpt-4o-mini' (or the name your server "
                "serves) or set OPTO_LLM_MODEL"
            )
        base_url = base_url or env.get("OPTO_LLM_BASE_URL") or env.get("OPENAI_BASE_URL") or None
        key, self._key_source = pick_api_key(base_url, api_key, api_key_env, env)
        if schema_mode not in _FALLBACK:
            raise LMConfigError(f"schema_mode must be one of {sorted(_FALLBACK)}, got {schema_mode!r}")
        super().__init__(model, options, **keywords)
        self.base_url = base_url
        self.timeout = float(timeout if timeout is not None else env.get("OPTO_LLM_TIMEOUT", 120.0))
        self.max_retries = int(max_retries if max_retries is not None else env.get("OPTO_LLM_MAX_RETRIES", 3))
        self.schema_mode = schema_mode
        self.extra_body = dict(extra_body or {})
        self._key = _Secret(key)
        self._key_lost = False  # True in an unpickled copy whose key could not be re-read
        self._dialects = list(_FALLBACK[schema_mode])
        self._confirmed = False  # has the server accepted self._dialects[0]?
        self._client = openai.OpenAI(
            api_key=self._key, base_url=base_url, timeout=self.timeout, max_retries=self.max_retries
        )
        self._aclients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Clients hold sockets and locks; a copy rebuilds them. The API key is never pickled (a
        # pickle may end up in a file): the copy reads it again from the variable it came from.
        state = self.__dict__.copy()
        for k in ("_client", "_aclients", "_lock", "_key"):
            state.pop(k)
        state["_key_was_local"] = self._key == NO_KEY
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        local = state.pop("_key_was_local")
        self.__dict__.update(state)
        source = self._key_source
        key = os.environ.get(source) if source else None
        self._key_lost = not key and not local
        self._key = _Secret(key or NO_KEY)
        self._client = openai.OpenAI(
            api_key=self._key, base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries
        )
        self._aclients = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAICompatible(model={self.model!r}, base_url={self.base_url!r})"

    def _cache_identity(self, request: Request) -> dict[str, Any]:
        # The server and its extra options shape the reply; so does schema_mode when the request
        # asks for JSON (it decides whether the server constrains the output). Never the key.
        ident: dict[str, Any] = {
            "base_url": (self.base_url or f"https://{OPENAI_HOST}/v1").rstrip("/"),
            "extra_body": self.extra_body,
        }
        if response_format(request, "json_schema") is not None:
            ident["schema_mode"] = self.schema_mode
        return ident

    # -- request building -------------------------------------------------------------------------
    def _kwargs(self, request: Request, dialect: SchemaDialect) -> dict[str, Any]:
        kw: dict[str, Any] = {"model": self.model, "messages": list(request.messages)}
        for name in ("temperature", "max_tokens", "seed"):
            value = getattr(request, name)
            if value is not None:
                kw[name] = value
        if request.stop:
            kw["stop"] = list(request.stop)
        fmt = response_format(request, dialect)
        if fmt is not None:
            kw["response_format"] = fmt
        if self.extra_body:
            kw["extra_body"] = self.extra_body
        return kw

    def _dialect(self) -> SchemaDialect:
        return self._dialects[0]

    def _downgrade(self, request: Request, dialect: SchemaDialect) -> bool:
        """After a 400/422 to a request with a response_format, drop to the next form; True if one is left."""
        if response_format(request, dialect) is None:
            return False
        with self._lock:
            if self._dialects[0] == dialect and len(self._dialects) > 1:
                self._dialects.pop(0)
            return self._dialects[0] != dialect

    # -- transport ----------------------------------------------------------------------------------
    def _send(self, request: Request) -> RawReply:
        malformed, probe = 0, True
        while True:
            dialect = self._dialect()
            probing = probe and self._probing(request, dialect)
            client = self._client.with_options(max_retries=0) if probing else self._client
            try:
                raw = self._to_raw(client.chat.completions.create(**self._kwargs(request, dialect)))
            except Exception as e:
                failure = self._classify(e, request, dialect)
            else:
                self._confirm(request, dialect)
                return raw
            step = self._next_step(failure, probing, malformed)
            if step == "unprobe":
                probe = False
            elif step == "backoff":
                time.sleep(_backoff(malformed))
                malformed += 1

    def _next_step(self, failure: LMFailure | None, probing: bool, malformed: int) -> str:
        """What a failed attempt leads to (shared by the sync and async loops); raises when it is final.

        "switch": the server rejected this schema form, try the next one at once; "unprobe": a flaky
        server, not a rejection, try again with the usual retries; "backoff": a malformed reply,
        wait and retry.
        """
        if failure is None:
            return "switch"
        if probing and failure.kind != "malformed_reply":
            return "unprobe"
        if failure.kind == "malformed_reply" and malformed < self.max_retries:
            return "backoff"
        raise TransportFailure(failure)

    async def _asend(self, request: Request) -> RawReply:
        malformed, probe = 0, True
        while True:
            dialect = self._dialect()
            probing = probe and self._probing(request, dialect)
            client = self._aclient()
            client = client.with_options(max_retries=0) if probing else client
            try:
                raw = self._to_raw(await client.chat.completions.create(**self._kwargs(request, dialect)))
            except Exception as e:
                failure = self._classify(e, request, dialect)
            else:
                self._confirm(request, dialect)
                return raw
            step = self._next_step(failure, probing, malformed)
            if step == "unprobe":
                probe = False
            elif step == "backoff":
                await asyncio.sleep(_backoff(malformed))
                malformed += 1

    def _probing(self, request: Request, dialect: SchemaDialect) -> bool:
        """True while a schema form is unconfirmed: its first try goes without retries, so a server
        that rejects it with a 5xx (llama-cpp-python does) costs one round trip, not a retry series."""
        return not self._confirmed and len(self._dialects) > 1 and response_format(request, dialect) is not None

    def _confirm(self, request: Request, dialect: SchemaDialect) -> None:
        if not self._confirmed and response_format(request, dialect) is not None:
            self._confirmed = True

    def _aclient(self) -> openai.AsyncOpenAI:
        # httpx async clients are bound to the loop they first ran in: keep one per loop.
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._aclients.get(loop)
            if client is None:
                client = openai.AsyncOpenAI(
                    api_key=self._key, base_url=self.base_url, timeout=self.timeout, max_retries=self.max_retries
                )
                self._aclients[loop] = client
        return client

    def _to_raw(self, completion: Any) -> RawReply:
        # The openai client builds its objects without validating them: every field is checked here.
        try:
            return read_completion(completion, self.model)
        except MalformedReply:
            raise
        except Exception as e:  # an object whose attribute access itself fails
            raise MalformedReply(f"the completion could not be read ({type(e).__name__}: {str(e)[:200]})") from e

    def _classify(self, e: Exception, request: Request, dialect: SchemaDialect) -> LMFailure | None:
        """Map an exception to an LMFailure; None means "retry with a simpler schema form";
        configuration errors are raised (they will not fix themselves)."""
        if _rejects_format(e) and self._downgrade(request, dialect):
            return None
        if isinstance(e, (openai.BadRequestError, openai.UnprocessableEntityError)):
            return LMFailure("bad_request", _api_message(e), status=e.status_code)
        if isinstance(e, openai.AuthenticationError):
            lost = (
                " This LM was unpickled and keys are never pickled: set OPTO_LLM_API_KEY or "
                "OPENAI_API_KEY in this process." if self._key_lost else ""
            )
            where = (
                "OPENAI_API_KEY / OPTO_LLM_API_KEY" if openai_key_allowed(self.base_url, os.environ)
                else "OPTO_LLM_API_KEY (OPENAI_API_KEY is only sent to api.openai.com)"
            )
            raise LMConfigError(
                f"the server at {self.base_url or OPENAI_HOST} rejected the API key ({e.status_code}); "
                f"check {where} or the api_key= argument.{lost}"
            ) from None
        if isinstance(e, openai.PermissionDeniedError):
            raise LMConfigError(
                f"access denied for model {self.model!r} ({e.status_code}): {_api_message(e)}"
            ) from None
        if isinstance(e, openai.NotFoundError):
            raise LMConfigError(
                f"model {self.model!r} or the chat endpoint was not found at "
                f"{self.base_url or 'api.openai.com'} (404); check the model name and that base_url ends "
                "in /v1"
            ) from None
        if isinstance(e, openai.APITimeoutError):
            return LMFailure("timeout", f"no reply within {self.timeout:g} s after {self.max_retries} retries")
        if isinstance(e, openai.APIConnectionError):
            return LMFailure(
                "connection",
                f"cannot reach {self.base_url or 'api.openai.com'} after {self.max_retries} retries ({e})",
            )
        if isinstance(e, openai.RateLimitError):
            return LMFailure("rate_limited", _api_message(e), status=429)
        if isinstance(e, openai.APIStatusError):
            kind: FailureKind = "server_error" if e.status_code >= 500 else "bad_request"
            return LMFailure(kind, _api_message(e), status=e.status_code)
        if isinstance(e, MalformedReply):
            return LMFailure("malformed_reply", str(e), raw_text=e.text)
        if isinstance(e, (openai.APIResponseValidationError, ValueError)):  # incl. JSONDecodeError
            return LMFailure("malformed_reply", f"{type(e).__name__}: {str(e)[:500]}")
        raise e  # a bug or a config error, not a flaky server: do not hide it


def openai_key_allowed(base_url: str | None, env: Mapping[str, str]) -> bool:
    """May OPENAI_API_KEY go to ``base_url``? Only to OpenAI itself, or to the URL of OPENAI_BASE_URL."""
    if base_url is None:
        return True
    if urllib.parse.urlsplit(base_url).hostname == OPENAI_HOST:
        return True
    paired = env.get("OPENAI_BASE_URL")
    return paired is not None and paired != "" and paired.rstrip("/") == base_url.rstrip("/")


def pick_api_key(
    base_url: str | None, api_key: str | None, api_key_env: str | None, env: Mapping[str, str]
) -> tuple[str, str | None]:
    """The key for ``base_url`` and the variable it came from (None: an argument or the placeholder).

    An OpenAI key never leaves for a third-party server: see the module docstring for the rule.
    """
    if api_key:
        return api_key, api_key_env
    names = [api_key_env] if api_key_env else ["OPTO_LLM_API_KEY", "OPENAI_API_KEY"]
    for name in names:
        if env.get(name) and (name != "OPENAI_API_KEY" or openai_key_allowed(base_url, env)):
            return env[name], name
    if base_url is None:
        raise LMConfigError(
            "no API key for api.openai.com: set OPENAI_API_KEY (or OPTO_LLM_API_KEY), pass "
            "api_key=..., or pass base_url= for a local server that needs no key"
        )
    return NO_KEY, None


def _rejects_format(e: Exception) -> bool:
    """A 400/422, or a 5xx that names response_format (llama-cpp-python wraps its 422 in a 500)."""
    if isinstance(e, (openai.BadRequestError, openai.UnprocessableEntityError)):
        return True
    return (
        isinstance(e, openai.APIStatusError)
        and e.status_code >= 500
        and "response_format" in f"{e.body} {e.message}"
    )


def _api_message(e: openai.APIStatusError) -> str:
    body = e.body
    if isinstance(body, Mapping):
        err = body.get("error", body)
        if isinstance(err, Mapping) and err.get("message"):
            return f"{e.status_code}: {str(err['message'])[:500]}"
        if "detail" in body:
            return f"{e.status_code}: {str(body['detail'])[:500]}"
    return f"{e.status_code}: {str(e)[:500]}"


def _backoff(attempt: int) -> float:
    return min(0.5 * 2.0**attempt, 8.0) * (1 - 0.25 * random.random())
