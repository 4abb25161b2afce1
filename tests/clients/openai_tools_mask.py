"""Drive the mask filter with streamed chat-completion tool calls.

The `openai` client asks for an answer with two tool calls whose arguments
carry PII split across chunks (and across the two calls' interleaved
indexes): raw streaming, the streaming helper and non-streaming. Prints
what the client parsed as JSON for the Rust test to assert on.

Environment: PORTCULLIS_BASE_URL (Envoy's listener, without /v1),
PORTCULLIS_API_KEY.
"""

import json

import gateway

client = gateway.openai_client()
directive = {
    "tool_calls": [
        {"name": "charge", "chunks": ['{"card": "4111 1111 ', '1111 1111", "mail": "jane.d', 'oe@example.com"}']},
        {"name": "store", "chunks": ['{"key": "AKIAZ7Q2', 'VHNK3RJXW4PB"}']},
    ]
}
messages = [{"role": "user", "content": "[[mock " + json.dumps(directive) + "]]"}]
result = {}

arguments, names, finish_reasons = {}, {}, []
for chunk in client.chat.completions.create(model="mock-small", messages=messages, stream=True):
    for choice in chunk.choices:
        for call in choice.delta.tool_calls or []:
            if call.function and call.function.name:
                names[call.index] = call.function.name
            if call.function and call.function.arguments:
                arguments[call.index] = arguments.get(call.index, "") + call.function.arguments
        if choice.finish_reason:
            finish_reasons.append(choice.finish_reason)
result["stream"] = {
    "arguments": [arguments.get(i) for i in sorted(arguments)],
    "names": [names.get(i) for i in sorted(names)],
    "finish_reasons": finish_reasons,
}

with client.chat.completions.stream(model="mock-small", messages=messages) as stream:
    for _ in stream:
        pass
    final = stream.get_final_completion()
result["helper"] = {"arguments": [c.function.arguments for c in final.choices[0].message.tool_calls]}

completion = client.chat.completions.create(model="mock-small", messages=messages)
message = completion.choices[0].message
result["non_stream"] = {
    "arguments": [c.function.arguments for c in message.tool_calls],
    "finish_reason": completion.choices[0].finish_reason,
}

print(json.dumps(result))
