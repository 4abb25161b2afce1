"""Drive the mask filter with Anthropic thinking and tool use.

The `anthropic` client asks for an answer with a thinking block, text and a
tool_use block, each carrying PII split across `thinking_delta`,
`text_delta` and `input_json_delta` events: streaming (through the
client's accumulating helper) and not. Prints what the client parsed as
JSON for the Rust test to assert on.

Environment: PORTCULLIS_BASE_URL (Envoy's listener, without /v1),
PORTCULLIS_API_KEY (sent as `x-api-key`, as the client does).
"""

import json

import gateway

client = gateway.anthropic_client()
directive = {
    "thinking": ["The user jane.d", "oe@example.com pays with 5555 55", "55 5555 4444"],
    "chunks": ["Charging card 5555 5555 ", "5555 4444 now."],
    "tool_calls": [{"name": "charge", "chunks": ['{"key": "AKIAZ7Q2', 'VHNK3RJXW4PB", "ssn": "123-4', '5-6789"}']}],
}
messages = [{"role": "user", "content": "[[mock " + json.dumps(directive) + "]]"}]


def blocks(content):
    """The blocks of a message, by type."""
    found = {}
    for block in content:
        if block.type == "thinking":
            found["thinking"] = block.thinking
            found["signature"] = block.signature
        elif block.type == "text":
            found["text"] = block.text
        elif block.type == "tool_use":
            found["input"] = block.input
    return found


result = {}
message = client.messages.create(
    model="mock-small",
    max_tokens=1024,
    thinking={"type": "enabled", "budget_tokens": 512},
    messages=messages,
)
result["non_stream"] = {"stop_reason": message.stop_reason, **blocks(message.content)}

thinking, partial_json = [], []
with client.messages.stream(
    model="mock-small",
    max_tokens=1024,
    thinking={"type": "enabled", "budget_tokens": 512},
    messages=messages,
) as stream:
    for event in stream:
        if event.type == "thinking":
            thinking.append(event.thinking)
        elif event.type == "input_json":
            partial_json.append(event.partial_json)
    final = stream.get_final_message()
result["stream"] = {
    "thinking_deltas": "".join(thinking),
    "partial_json": "".join(partial_json),
    "stop_reason": final.stop_reason,
    **blocks(final.content),
}

print(json.dumps(result))
