//! Native PII and secret masking engine for the Portcullis filters.
//!
//! Host-independent (no proxy-wasm, no threads, no filesystem, no clock, no
//! randomness): the masking filter wraps it, and it builds for `wasm32-wasip1`.
//!
//! * [`Masker`] is compiled once from a
//!   [`MaskingPolicy`] and masks
//!   whole texts ([`Masker::mask`]) or JSON bodies ([`Masker::mask_json`]).
//! * [`StreamMasker`] masks text that arrives in pieces with exactly the same
//!   result, holding back only a tail that may still be the start of an entity.
//! * [`SseRewriter`] applies a [`TextStream`] to the streamed text of OpenAI
//!   (chat, legacy, Responses API) and Anthropic server-sent event streams
//!   given as raw bytes in any pieces, and masks every other string of every
//!   event whole, unknown event types included.
//! * [`Pseudonymizer`] keeps the in-memory mapping of one exchange so that
//!   placeholders in the model's answer are turned back into the originals.
//!
//! ```
//! use portcullis_masking::Masker;
//!
//! let masked = Masker::new().mask("card 4111 1111 1111 1111, mail jane@example.com");
//! assert_eq!(masked.text, "card [CREDIT_CARD], mail [EMAIL]");
//! assert_eq!(masked.counts["credit_card"], 1);
//! ```

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod checksum;
mod context;
mod custom;
mod detect;
mod entity;
mod json;
pub mod logprobs;
mod masker;
mod operator;
mod pseudo;
mod resolve;
mod scan;
mod sse;
mod stream;

pub use custom::MAX_CUSTOM_MATCH_BYTES;
pub use detect::generic::{GENERIC_MIN_ENTROPY, PASSWORD_MIN_ENTROPY};
pub use detect::secrets::{MAX_JWT_BYTES, MAX_PRIVATE_KEY_BYTES};
pub use entity::EntityKind;
pub use json::{JsonError, MAX_JSON_DEPTH};
pub use masker::{Detection, Masked, Masker};
pub use portcullis_policy::masking::{MaskingPolicy, Operator};
pub use pseudo::{Pseudonymizer, RestoreStream};
pub use sse::{SseRewriter, MAX_SSE_STREAMS};
pub use stream::{SharedPseudonymizer, StreamMasker, TextStream};
