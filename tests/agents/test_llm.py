"""The Anthropic provider through the real SDK, against a local fake Messages API."""

import pytest

from agents import llm
from tests.fakes.anthropic import FakeAnthropic, overloaded

MESSAGES = [{"role": "user", "content": "Hello"}]


def provider(fake: FakeAnthropic, timeout: float = 5.0) -> llm.AnthropicProvider:
    return llm.AnthropicProvider(api_key="sk-ant-test", base_url=fake.url, timeout=timeout)


def complete(p: llm.Provider, **kwargs: object) -> llm.Completion:
    return p.complete(
        llm.CompletionRequest(
            model="claude-sonnet-5-5", system="Be brief.", messages=MESSAGES, max_tokens=50,
            **kwargs,
        )
    )  # fmt: skip


def test_success_returns_text_model_and_usage(fake_anthropic):
    completion = complete(provider(fake_anthropic))

    assert completion.text == "Fake reply to: Hello"
    assert completion.model == "claude-sonnet-5-5"
    assert completion.input_tokens > 0
    assert completion.output_tokens > 0
    assert completion.offline is False


def test_the_request_carries_prompt_model_limits_and_key(fake_anthropic):
    complete(provider(fake_anthropic))

    sent = fake_anthropic.requests[-1]
    assert sent["path"] == "/v1/messages"
    assert sent["json"]["system"] == "Be brief."
    assert sent["json"]["messages"] == MESSAGES
    assert sent["json"]["max_tokens"] == 50
    assert "temperature" not in sent["json"]  # refused by API version 2026-10-21
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert "sk-ant-test" in headers.get("authorization", "") + headers.get("x-api-key", "")


def test_an_overload_then_success_is_retried_by_the_sdk(fake_anthropic):
    fake_anthropic.enqueue(**vars(overloaded()))

    completion = complete(provider(fake_anthropic), max_retries=1)

    assert completion.text == "Fake reply to: Hello"
    assert len(fake_anthropic.requests) == 2


def test_the_sdk_retries_an_overload_by_default_with_the_settings_retry_count(fake_anthropic):
    fake_anthropic.enqueue(status=529)  # the fake adds Anthropic's error body and retry-after-ms

    completion = complete(provider(fake_anthropic))

    assert completion.text == "Fake reply to: Hello"
    assert len(fake_anthropic.requests) == 2


def test_an_overload_without_retries_is_transient(fake_anthropic):
    fake_anthropic.enqueue(**vars(overloaded()))

    with pytest.raises(llm.TransientLLMError):
        complete(provider(fake_anthropic), max_retries=0)


def test_a_rate_limit_is_transient_with_its_retry_after(fake_anthropic):
    fake_anthropic.enqueue(
        status=429,
        body={"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}},
        headers={"retry-after": "7"},
    )

    with pytest.raises(llm.TransientLLMError) as caught:
        complete(provider(fake_anthropic), max_retries=0)

    assert caught.value.retry_after == 7.0


def test_a_bad_request_is_permanent_with_the_providers_message(fake_anthropic):
    fake_anthropic.enqueue(
        status=400,
        body={
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "max_tokens: too large"},
        },
    )

    with pytest.raises(llm.PermanentLLMError) as caught:
        complete(provider(fake_anthropic))

    assert caught.value.message == "max_tokens: too large"
    assert caught.value.status_code == 400
    assert len(fake_anthropic.requests) == 1  # never retried


def test_a_model_slower_than_the_timeout_is_transient(fake_anthropic):
    fake_anthropic.enqueue(delay=2.0)

    with pytest.raises(llm.TransientLLMError):
        complete(provider(fake_anthropic, timeout=0.3), max_retries=0)


def test_the_offline_provider_is_deterministic_and_says_so():
    first = complete(llm.OfflineProvider())
    second = complete(llm.OfflineProvider())

    assert first == second
    assert first.offline is True
    assert first.model == "offline"
    assert "Hello" in first.text


def test_the_offline_provider_never_repeats_control_text_as_the_users():
    messages = [{"role": "user", "content": "<control>Greet them.</control>"}]

    completion = llm.OfflineProvider().complete(
        llm.CompletionRequest(model="m", system="", messages=messages, max_tokens=10)
    )

    assert "Greet them" not in completion.text


def test_get_provider_is_offline_without_a_key_and_claude_with_one(settings):
    settings.ANTHROPIC_API_KEY = ""
    assert llm.get_provider().name == "offline"

    settings.ANTHROPIC_API_KEY = "sk-ant-x"
    settings.ANTHROPIC_BASE_URL = "http://127.0.0.1:9"
    chosen = llm.get_provider()
    assert chosen.name == "anthropic"
    assert llm.get_provider() is chosen  # one client per process
