"""The official SDK clients, pointed at the gateway.

Environment: PORTCULLIS_BASE_URL (Envoy's listener, without /v1) and
PORTCULLIS_API_KEY (the caller's key; `default` when it is not set). The
clients never retry, so every answer the tests see is the gateway's first.
"""

import os


def _settings(default_key):
    key = os.environ.get("PORTCULLIS_API_KEY", default_key)
    if key is None:
        raise SystemExit("PORTCULLIS_API_KEY is not set")
    return os.environ["PORTCULLIS_BASE_URL"], key


def openai_client(default_key=None):
    """An `openai.OpenAI` client for the gateway's OpenAI-compatible API."""
    import openai

    base, key = _settings(default_key)
    return openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0, timeout=30)


def anthropic_client(default_key=None):
    """An `anthropic.Anthropic` client for the gateway's Anthropic-compatible API."""
    import anthropic

    base, key = _settings(default_key)
    return anthropic.Anthropic(base_url=base, api_key=key, max_retries=0, timeout=30)
