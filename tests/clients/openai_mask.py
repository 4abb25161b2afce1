"""Drive the mask filter with the official `openai` Python client.

A non-streaming chat completion whose answer holds a card number and an
e-mail address, and a streamed one whose chunks split them across events:
prints what the client parsed as JSON for the Rust test to assert on.

Environment: PORTCULLIS_BASE_URL (Envoy's listener, without /v1),
PORTCULLIS_API_KEY.
"""

import json

import gateway

client = gateway.openai_client()
result = {}

raw = client.chat.completions.with_raw_response.create(
    model="mock-small",
    messages=[{"role": "user", "content": '[[mock {"reply": "card 4111 1111 1111 1111, mail jane.doe@example.com"}]]'}],
)
completion = raw.parse()
result["non_stream"] = {
    "content": completion.choices[0].message.content,
    "total_tokens": completion.usage.total_tokens,
    "content_length": raw.headers.get("content-length"),
}

chunks = ["Your card 4111 ", "1111 1111", " 1111 is on file; we wrote to ja", "ne.doe@exam", "ple.com today."]
stream = client.chat.completions.create(
    model="mock-small",
    messages=[{"role": "user", "content": "[[mock " + json.dumps({"chunks": chunks}) + "]]"}],
    stream=True,
    stream_options={"include_usage": True},
)
pieces, finish_reasons, usage = [], [], None
for chunk in stream:
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish_reasons.append(choice.finish_reason)
    if chunk.usage is not None:
        usage = chunk.usage.total_tokens
result["stream"] = {"content": "".join(pieces), "finish_reasons": finish_reasons, "total_tokens": usage}

print(json.dumps(result))
