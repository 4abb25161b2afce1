//! Masking policy: which entities to detect and how to mask them.
