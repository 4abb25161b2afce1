"""Drive Portcullis with the official `openai` Python client.

Sends a non-streaming and a streaming chat completion through Envoy, and a
request the mock model fails on purpose, then prints what the client saw as
JSON for the Rust test to assert on.

Environment: PORTCULLIS_BASE_URL (Envoy's listener, without /v1).
"""

import json

import openai

import gateway

client = gateway.openai_client("sk-client-key")
result = {}

raw = client.chat.completions.with_raw_response.create(
    model="mock-small",
    messages=[{"role": "user", "content": "hello from the openai client"}],
)
completion = raw.parse()
result["non_stream"] = {
    "content": completion.choices[0].message.content,
    "model": completion.model,
    "finish_reason": completion.choices[0].finish_reason,
    "total_tokens": completion.usage.total_tokens,
    "policy_version": raw.headers.get("x-portcullis-policy-version"),
}

raw = client.chat.completions.with_raw_response.create(
    model="mock-small",
    messages=[{"role": "user", "content": 'stream please [[mock {"chunks": ["one ", "two ", "three"]}]]'}],
    stream=True,
    stream_options={"include_usage": True},
)
pieces, finish_reasons, usage = [], [], None
for chunk in raw.parse():
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish_reasons.append(choice.finish_reason)
    if chunk.usage is not None:
        usage = chunk.usage.total_tokens
result["stream"] = {
    "pieces": pieces,
    "finish_reasons": finish_reasons,
    "total_tokens": usage,
    "policy_version": raw.headers.get("x-portcullis-policy-version"),
}

try:
    client.chat.completions.create(
        model="mock-small",
        messages=[{"role": "user", "content": '[[mock {"status": 429}]]'}],
    )
    result["rate_limited"] = None
except openai.RateLimitError as error:
    result["rate_limited"] = {"status": error.status_code, "message": error.message}

print(json.dumps(result))
