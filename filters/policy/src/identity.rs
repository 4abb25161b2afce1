//! Identity providers, API keys, targets and access rules (filled in by the identity work).
