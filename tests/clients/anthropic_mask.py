"""Drive the mask filter with the official `anthropic` Python client.

A message whose answer holds a card number, and a streamed one whose
`content_block_delta` events split a card number and an e-mail address:
prints what the client parsed as JSON for the Rust test to assert on.

Environment: PORTCULLIS_BASE_URL (Envoy's listener, without /v1),
PORTCULLIS_API_KEY (sent as `x-api-key`, as the client does).
"""

import json

import gateway

client = gateway.anthropic_client()
result = {}

message = client.messages.create(
    model="mock-small",
    max_tokens=256,
    messages=[{"role": "user", "content": '[[mock {"reply": "card 5555 5555 5555 4444 ok"}]]'}],
)
result["non_stream"] = {"text": message.content[0].text, "stop_reason": message.stop_reason}

chunks = ["Card 5555 55", "55 5555 4444", " and mail jane.", "doe@example", ".com done"]
with client.messages.stream(
    model="mock-small",
    max_tokens=256,
    messages=[{"role": "user", "content": "[[mock " + json.dumps({"chunks": chunks}) + "]]"}],
) as stream:
    pieces = list(stream.text_stream)
    final = stream.get_final_message()
result["stream"] = {"pieces": pieces, "text": "".join(pieces), "final_text": final.content[0].text, "stop_reason": final.stop_reason}

print(json.dumps(result))
