"""Anthropic Messages API with tool use, through the official `anthropic` client.

Wire: POST {base_url}/v1/messages, headers x-api-key and anthropic-version; `system` is a
top-level string; assistant turns carry `tool_use` blocks and the next user turn carries the
matching `tool_result` blocks; roles must alternate, so consecutive same-role turns are merged.
Anthropic has no seed parameter: the seed is recorded in the trace, not sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.core.policies._http import HttpPolicy, SdkErrors, quiet_sdk_loggers
from agents.core.policies.base import Message, PolicyContext, PolicyError, PolicyStep, ToolCall, Usage

if TYPE_CHECKING:
    import anthropic

ANTHROPIC_VERSION = "2023-06-01"


class _Block(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text", "tool_use", "thinking", "redacted_thinking"]
    text: str = ""
    id: str = ""
    name: str = ""
    input: dict[str, Any] = Field(default_factory=dict)


class _Usage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")
    content: list[_Block]
    stop_reason: str | None = None
    usage: _Usage


class AnthropicPolicy(HttpPolicy):
    kind = "anthropic"
    _client: anthropic.Anthropic

    def __init__(self, *, model: str, api_key: str, base_url: str = "https://api.anthropic.com",
                 anthropic_version: str = ANTHROPIC_VERSION, **kwargs: Any) -> None:
        self.anthropic_version = anthropic_version
        super().__init__(base_url=base_url, model=model, api_key=api_key, **kwargs)

    def _connect(self, api_key: str) -> SdkErrors:
        import anthropic  # here, not at the top: the SDK takes about a second to import, paid only by runs that use it

        quiet_sdk_loggers("anthropic", "httpx")  # ANTHROPIC_LOG, read at that import, must not log the conversation
        # max_retries=0: our loop retries (count, backoff and Retry-After ours); http_client: ours, no redirects.
        self._client = anthropic.Anthropic(api_key=api_key, base_url=self.base_url, max_retries=0,
                                           timeout=self._timeout, http_client=self._http)
        # The client also read ANTHROPIC_CUSTOM_HEADERS from the environment, merged after the auth header: an ambient
        # "x-api-key: ..." would replace our key (or, in another letter case, go beside it). No constructor argument
        # stops that (copy() re-reads the environment), so the private `_custom_headers` is replaced by ours alone:
        # the version header, pinned here rather than left to the installed SDK's default (anthropic/_client.py,
        # pinned <0.126). test_policies_http catches an SDK change.
        self._client._custom_headers = {"anthropic-version": self.anthropic_version}
        return SdkErrors(base=anthropic.AnthropicError, connection=anthropic.APIConnectionError,
                         status=anthropic.APIStatusError)

    def next_step(self, ctx: PolicyContext) -> PolicyStep:
        body = self.request_body(ctx)
        # The raw reply, validated by our models below: the SDK's Message would accept one without usage.
        return parse_reply(self._call(lambda: self._client.messages.with_raw_response.create(**body).http_response))

    def request_body(self, ctx: PolicyContext) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in ctx.messages if m.role == "system")
        body: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens, "temperature": self.temperature,
                                "messages": to_wire(ctx.messages)}
        if system:
            body["system"] = system
        if ctx.tools:
            body["tools"] = [{"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
                             for t in ctx.tools]
        return body


def to_wire(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Convert to alternating user/assistant turns of content blocks."""
    turns: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            continue
        role = "assistant" if m.role == "assistant" else "user"
        blocks = _blocks(m)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _blocks(m: Message) -> list[dict[str, Any]]:
    if m.role == "tool":
        return [{"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content, "is_error": m.is_error}]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
    for c in m.tool_calls:
        blocks.append({"type": "tool_use", "id": c.id, "name": c.name, "input": _args_dict(c.arguments)})
    return blocks


def _args_dict(args: Any) -> dict[str, Any]:
    if isinstance(args, dict):
        return args
    try:
        parsed = json.loads(args) if isinstance(args, str) and args.strip() else {}
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def parse_reply(data: dict[str, Any]) -> PolicyStep:
    try:
        reply = _Reply.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(f"malformed messages reply: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    usage = Usage(reply.usage.input_tokens, reply.usage.output_tokens)
    calls = tuple(ToolCall(b.id, b.name, b.input) for b in reply.content if b.type == "tool_use")
    text = "".join(b.text for b in reply.content if b.type == "text")
    if calls:
        return PolicyStep(tool_calls=calls, text=text, usage=usage, stop_reason=reply.stop_reason or "")
    return PolicyStep(final=text, usage=usage, stop_reason=reply.stop_reason or "")
