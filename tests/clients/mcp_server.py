"""A real MCP server for the end-to-end tests, built on the official `mcp` SDK.

Serves two tools over streamable HTTP at http://127.0.0.1:$PORT/mcp:

  list_namespaces()        a fixed list of namespaces
  delete_namespace(name)   a destructive tool the gateway is expected to block

It logs to stdout every JSON-RPC message it receives
(`received <method> [<tool>]`) and every tool it runs
(`tool <name> invoked ...`), so that a test can tell from the log whether a
call reached it. Prints `mcp server ready on <url>` once it accepts
connections.

    PORT=9100 .tools/venv/bin/python tests/clients/mcp_server.py
"""

import asyncio
import os
from typing import Any

import uvicorn
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer

HOST = "127.0.0.1"
PORT = int(os.environ.get("PORT", "9100"))
PATH = "/mcp"


def say(line: str) -> None:
    # stdout is a file under the harness: flush so that the log is current.
    print(line, flush=True)


async def log_messages(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Middleware: logs each JSON-RPC message before the SDK handles it."""
    name = ctx.params.get("name") if isinstance(ctx.params, dict) else None
    say(f"received {ctx.method}" + (f" {name}" if isinstance(name, str) else ""))
    return await call_next(ctx)


server = MCPServer("portcullis-e2e-mcp", middleware=[log_messages])


@server.tool()
def list_namespaces() -> list[str]:
    """Lists the cluster's namespaces."""
    say("tool list_namespaces invoked")
    return ["default", "prod", "staging"]


@server.tool()
def delete_namespace(name: str) -> str:
    """Deletes a namespace and everything in it."""
    # The gateway must never let a call get here in the tests.
    say(f"tool delete_namespace invoked: name={name}")
    return f"namespace {name} deleted"


async def main() -> None:
    app = server.streamable_http_app(streamable_http_path=PATH, host=HOST)
    web = uvicorn.Server(uvicorn.Config(app, host=HOST, port=PORT, log_level="info"))
    serving = asyncio.create_task(web.serve())
    while not web.started:
        if serving.done():
            await serving  # raises why it stopped (e.g. the port is taken)
            return
        await asyncio.sleep(0.02)
    say(f"mcp server ready on http://{HOST}:{PORT}{PATH}")
    await serving


if __name__ == "__main__":
    asyncio.run(main())
