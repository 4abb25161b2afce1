"""Drive the mask filter with the official `openai` client's Responses API.

Asks for an answer with a reasoning summary, a message and a function call,
each carrying PII split across streamed deltas: non-streaming
(`responses.create`), streaming raw events (`responses.create(stream=True)`)
and through the streaming helper (`responses.stream`). Prints what the
client parsed as JSON for the Rust test to assert on.

Environment: PORTCULLIS_BASE_URL (Envoy's listener, without /v1),
PORTCULLIS_API_KEY.
"""

import json

import gateway

client = gateway.openai_client()
directive = {
    "thinking": ["The user jane.d", "oe@example.com wants a refund"],
    "chunks": ["Refund to card 4111 ", "1111 1111", " 1111; key AKIAZ7Q2", "VHNK3RJXW4PB"],
    "tool_calls": [{"name": "refund", "chunks": ['{"iban": "DE89 3704 ', '0044 0532 0130 00", "mail": "jane.doe@exa', 'mple.com"}']}],
}
prompt = "[[mock " + json.dumps(directive) + "]]"


def items(output):
    """The texts of a response's output items, by item type."""
    found = {"summary": None, "text": None, "arguments": None}
    for item in output:
        if item.type == "reasoning":
            found["summary"] = "".join(s.text for s in item.summary)
        elif item.type == "message":
            found["text"] = "".join(c.text for c in item.content if c.type == "output_text")
        elif item.type == "function_call":
            found["arguments"] = item.arguments
    return found


result = {}

response = client.responses.create(model="mock-small", input=prompt)
result["non_stream"] = {"output_text": response.output_text, "status": response.status, **items(response.output)}

deltas = {"summary": [], "text": [], "arguments": []}
done = {}
types = []
for event in client.responses.create(model="mock-small", input=prompt, stream=True):
    types.append(event.type)
    if event.type == "response.reasoning_summary_text.delta":
        deltas["summary"].append(event.delta)
    elif event.type == "response.output_text.delta":
        deltas["text"].append(event.delta)
    elif event.type == "response.function_call_arguments.delta":
        deltas["arguments"].append(event.delta)
    elif event.type == "response.reasoning_summary_text.done":
        done["summary"] = event.text
    elif event.type == "response.output_text.done":
        done["text"] = event.text
    elif event.type == "response.function_call_arguments.done":
        done["arguments"] = event.arguments
    elif event.type == "response.completed":
        done["completed"] = items(event.response.output)
        done["completed_output_text"] = event.response.output_text
result["stream"] = {
    "deltas": {k: "".join(v) for k, v in deltas.items()},
    "done": done,
    "first": types[0],
    "last": types[-1],
}

snapshot = None
with client.responses.stream(model="mock-small", input=prompt) as stream:
    for event in stream:
        if event.type == "response.output_text.delta":
            snapshot = event.snapshot
    final = stream.get_final_response()
result["helper"] = {"snapshot": snapshot, "output_text": final.output_text, **items(final.output)}

print(json.dumps(result))
