"""LLM providers behind one small interface: Anthropic Claude through the official SDK,
and an offline provider for the embedded default (no key), never presented as Claude.

Sampling parameters (temperature, top_p, top_k) are not sent: API version 2026-10-21,
which the SDK 2.x sends, refuses them with a 400, and the SDK no longer accepts them.

Errors are classified once, here: TransientLLMError (overload, rate limit, 5xx,
connection, timeout) is worth retrying; PermanentLLMError (other 4xx) is not.
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import anthropic
from django.conf import settings

from core.retry import parse_retry_after


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    input_tokens: int | None
    output_tokens: int | None
    offline: bool = False
    stop_reason: str | None = None


@dataclass(frozen=True)
class CompletionRequest:
    """One call to a model: the system prompt, the turns, the answer's length, and
    (inside a blocking request) the SDK's own retries; None keeps the client's."""

    model: str
    system: str
    messages: list[dict]
    max_tokens: int
    max_retries: int | None = None


class LLMError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientLLMError(LLMError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentLLMError(LLMError):
    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class Provider(Protocol):
    name: str

    def complete(self, request: CompletionRequest) -> Completion: ...


def _retry_after(response: object) -> float | None:
    headers = getattr(response, "headers", None) or {}
    return parse_retry_after(headers.get("retry-after"))


def _provider_message(exc: anthropic.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    return str(error.get("message") or exc.message)


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, *, api_key: str, base_url: str | None, timeout: float) -> None:
        # One client per process: it holds the HTTP connection pool and is thread-safe.
        self.client = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url or None,
            timeout=anthropic.Timeout(timeout, connect=5.0),
            max_retries=settings.LLM_SDK_MAX_RETRIES,
        )

    def complete(self, request: CompletionRequest) -> Completion:
        client = (
            self.client
            if request.max_retries is None
            else self.client.with_options(max_retries=request.max_retries)
        )
        try:
            response = client.messages.create(
                model=request.model,
                max_tokens=request.max_tokens,
                system=request.system,
                messages=request.messages,
            )
        except anthropic.APITimeoutError as exc:
            raise TransientLLMError("The model did not answer in time.") from exc
        except anthropic.APIConnectionError as exc:
            raise TransientLLMError(f"Could not reach the model: {exc.message}") from exc
        except anthropic.APIStatusError as exc:
            message = _provider_message(exc)
            if exc.status_code in (408, 409, 429) or exc.status_code >= 500:
                raise TransientLLMError(message, retry_after=_retry_after(exc.response)) from exc
            raise PermanentLLMError(message, status_code=exc.status_code) from exc
        text = "".join(block.text for block in response.content if block.type == "text").strip()
        if not text:
            raise PermanentLLMError("The model returned an empty reply.")
        return Completion(
            text=text,
            model=response.model,
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
            stop_reason=response.stop_reason,
        )


_CONTROL = re.compile(r"<control>.*?</control>", re.DOTALL)


class OfflineProvider:
    """Deterministic, no network: echoes the customer's last words, marked offline."""

    name = "offline"

    def complete(self, request: CompletionRequest) -> Completion:
        messages, system = request.messages, request.system
        last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        said = _CONTROL.sub("", last_user).strip()
        text = (
            f"(offline reply) You said: {said[:500]}"
            if said
            else "(offline reply) Hello! How can I help you today?"
        )
        return Completion(
            text=text,
            model="offline",
            input_tokens=(len(system) + sum(len(m["content"]) for m in messages)) // 4,
            output_tokens=len(text) // 4,
            offline=True,
            stop_reason="end_turn",
        )


@lru_cache(maxsize=8)
def _anthropic(api_key: str, base_url: str, timeout: float) -> AnthropicProvider:
    return AnthropicProvider(api_key=api_key, base_url=base_url, timeout=timeout)


def get_provider() -> Provider:
    """Claude when ANTHROPIC_API_KEY is set, else the offline provider."""
    if settings.ANTHROPIC_API_KEY:
        return _anthropic(
            settings.ANTHROPIC_API_KEY, settings.ANTHROPIC_BASE_URL, settings.LLM_REQUEST_TIMEOUT
        )
    return OfflineProvider()
