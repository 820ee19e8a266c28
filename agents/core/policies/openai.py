"""OpenAI-compatible chat completions with tool calling (OpenAI, vLLM, llama.cpp, Ollama...), through the official
`openai` client.

Wire: POST {base_url}/chat/completions with `tools` [{type: function, function: {...}}];
the reply's `choices[0].message.tool_calls[].function.arguments` is a JSON *string*.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.core.policies._http import HttpPolicy, SdkErrors, quiet_sdk_loggers
from agents.core.policies.base import Message, PolicyContext, PolicyError, PolicyStep, ToolCall, Usage

if TYPE_CHECKING:
    import openai


class _Fn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str
    arguments: str = ""


class _Call(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    function: _Fn


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore")
    content: str | None = None
    tool_calls: list[_Call] | None = None


class _Choice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: _Msg
    finish_reason: str | None = None


class _Usage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage  # required: without usage we cannot enforce the token budget (fail closed)


class OpenAIPolicy(HttpPolicy):
    kind = "openai"
    _client: openai.OpenAI

    def _connect(self, api_key: str) -> SdkErrors:
        import openai  # here, not at the top: the SDK takes about a second to import, paid only by runs that use it

        quiet_sdk_loggers("openai", "httpx")  # OPENAI_LOG, read at the import above, must not log the conversation
        # max_retries=0: our loop retries (count, backoff and Retry-After ours); http_client: ours, no redirects.
        self._client = openai.OpenAI(api_key=api_key, base_url=self.base_url, max_retries=0, timeout=self._timeout,
                                     http_client=self._http)
        # The client also read OPENAI_CUSTOM_HEADERS, OPENAI_ORG_ID and OPENAI_PROJECT_ID from the environment. Its
        # custom headers are merged after the auth header, so an ambient "Authorization: ..." would replace our key
        # (or, lower-cased, be sent beside it), and the organization and project would go to any base URL (a local
        # vLLM included). No constructor argument stops that (copy() re-reads the environment), so the private
        # `_custom_headers` is replaced: Omit() removes the two headers `default_headers` would build from the
        # organization and project (openai/_client.py, pinned <3). test_policies_http catches an SDK change.
        self._client._custom_headers = {"OpenAI-Organization": openai.Omit(), "OpenAI-Project": openai.Omit()}
        return SdkErrors(base=openai.OpenAIError, connection=openai.APIConnectionError, status=openai.APIStatusError)

    def next_step(self, ctx: PolicyContext) -> PolicyStep:
        body = self.request_body(ctx)
        # The raw reply, validated by our models below: the SDK's ChatCompletion would accept one without usage.
        return parse_reply(self._call(lambda: self._client.chat.completions.with_raw_response.create(**body)
                                      .http_response))

    def request_body(self, ctx: PolicyContext) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": [to_wire(m) for m in ctx.messages],
                                "temperature": self.temperature}
        if ctx.tools:
            body["tools"] = [{"type": "function", "function": t} for t in ctx.tools]
            body["tool_choice"] = "auto"
        if self.seed is not None:
            body["seed"] = self.seed
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        return body


def to_wire(m: Message) -> dict[str, Any]:
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}
    if m.role == "assistant" and m.tool_calls:
        return {"role": "assistant", "content": m.content or None,
                "tool_calls": [{"id": c.id, "type": "function",
                                "function": {"name": c.name, "arguments": _args_text(c.arguments)}}
                               for c in m.tool_calls]}
    return {"role": m.role, "content": m.content}


def _args_text(args: Any) -> str:
    return args if isinstance(args, str) else json.dumps(args, separators=(",", ":"))


def parse_reply(data: dict[str, Any]) -> PolicyStep:
    try:
        reply = _Reply.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"malformed chat completion: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    choice = reply.choices[0]
    usage = Usage(reply.usage.prompt_tokens, reply.usage.completion_tokens)
    calls = tuple(ToolCall(c.id, c.function.name, c.function.arguments) for c in choice.message.tool_calls or ())
    if calls:
        return PolicyStep(tool_calls=calls, text=choice.message.content or "", usage=usage,
                          stop_reason=choice.finish_reason or "")
    return PolicyStep(final=choice.message.content or "", usage=usage, stop_reason=choice.finish_reason or "")
