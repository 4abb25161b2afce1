"""Drive an MCP server through Portcullis with the official `mcp` Python SDK.

Over streamable HTTP at $PORTCULLIS_BASE_URL/mcp: initializes a session,
lists the tools, calls `list_namespaces` (allowed), then calls
`delete_namespace` with {"name": "prod"}, which the gateway should refuse.
Prints what the SDK reported as JSON for the Rust test to assert on:

  {"initialized": true, "server": "...", "tools": [...], "list_ok": true,
   "namespaces": [...],
   "delete": {"blocked": true, "status": 403, "message": "...", "sdk_error": "...",
              "result": null},
   "http_errors": [{"http": "POST", "rpc": "tools/call", "status": 403, "body": "..."}]}

The gateway answers a refused call with HTTP 403 and a JSON-RPC error
naming the rule, which the SDK raises as `MCPError` (`sdk_error`). The SDK
keeps neither the HTTP status nor the body, so a response hook on the HTTP
client records every non-2xx answer: `status` and `message` of `delete`
come from there.

Environment: PORTCULLIS_BASE_URL (Envoy's listener), PORTCULLIS_API_KEY (sent
as `x-api-key`).
"""

import json
import os

import anyio
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

URL = os.environ["PORTCULLIS_BASE_URL"] + "/mcp"
API_KEY = os.environ.get("PORTCULLIS_API_KEY", "")

http_errors: list[dict] = []


async def record_errors(response: httpx2.Response) -> None:
    """Response hook: keeps every non-2xx answer (the SDK keeps neither status nor body)."""
    if response.status_code < 400:
        return
    body = (await response.aread()).decode("utf-8", "replace")
    rpc = None
    try:
        sent = json.loads(response.request.content or b"null")
        rpc = sent.get("method") if isinstance(sent, dict) else None
    except (ValueError, httpx2.RequestNotRead):
        pass
    http_errors.append({"http": response.request.method, "rpc": rpc, "status": response.status_code, "body": body})


def text_of(result) -> list[str]:
    return [block.text for block in result.content if getattr(block, "type", None) == "text"]


async def main() -> dict:
    out: dict = {"initialized": False}
    # The SDK's documented way to set headers: an HTTP client of our own.
    client = httpx2.AsyncClient(
        headers={"x-api-key": API_KEY},
        timeout=httpx2.Timeout(30, read=60),
        event_hooks={"response": [record_errors]},
    )
    async with client, streamable_http_client(URL, http_client=client) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            out["initialized"] = True
            out["server"] = init.server_info.name
            out["protocol_version"] = init.protocol_version

            tools = await session.list_tools()
            out["tools"] = sorted(tool.name for tool in tools.tools)

            listed = await session.call_tool("list_namespaces", {})
            out["list_ok"] = not listed.is_error
            structured = listed.structured_content or {}
            out["namespaces"] = structured.get("result", text_of(listed))

            errors_before = len(http_errors)
            delete: dict = {"blocked": False, "status": None, "message": None, "sdk_error": None, "result": None}
            try:
                result = await session.call_tool("delete_namespace", {"name": "prod"})
                # A tool error result is the server refusing, not the gateway.
                delete["result"] = {"is_error": result.is_error, "text": text_of(result)}
            except MCPError as error:
                delete["sdk_error"] = {"code": error.error.code, "message": error.error.message}
            refused = [e for e in http_errors[errors_before:] if e["rpc"] == "tools/call"]
            if refused:
                delete["blocked"] = True
                delete["status"] = refused[-1]["status"]
                try:
                    delete["message"] = json.loads(refused[-1]["body"])["error"]["message"]
                except (ValueError, KeyError, TypeError):
                    delete["message"] = refused[-1]["body"]
            out["delete"] = delete
    out["http_errors"] = http_errors
    return out


print(json.dumps(anyio.run(main)))
