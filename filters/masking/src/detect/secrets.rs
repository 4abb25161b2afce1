//! Secrets with a recognisable shape: vendor key prefixes, PEM private key
//! blocks and JSON Web Tokens.

use base64::Engine as _;

use crate::entity::EntityKind;
use crate::scan::{entropy_below, is_alnum, is_placeholder, Hold, Scan, Sink, Step};

/// Longest PEM private key block looked for, from `-----BEGIN` on. A block
/// with no `-----END` line within this many bytes is masked up to this bound
/// (fail closed), as is one cut off by the end of the text.
pub const MAX_PRIVATE_KEY_BYTES: usize = 16 * 1024;

/// Longest JSON Web Token recognised.
pub const MAX_JWT_BYTES: usize = 8 * 1024;

#[derive(Clone, Copy)]
enum Body {
    UpperDigit,
    Alnum,
    AlnumUnderscore,
    AlnumDash,
    Token,
}

impl Body {
    fn accepts(self, c: u8) -> bool {
        match self {
            Body::UpperDigit => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Body::Alnum => c.is_ascii_alphanumeric(),
            Body::AlnumUnderscore => c.is_ascii_alphanumeric() || c == b'_',
            Body::AlnumDash => c.is_ascii_alphanumeric() || c == b'-',
            Body::Token => c.is_ascii_alphanumeric() || c == b'-' || c == b'_',
        }
    }
}

struct Rule {
    prefix: &'static [u8],
    kind: EntityKind,
    body: Body,
    min: usize,
    max: usize,
}

const fn rule(prefix: &'static [u8], kind: EntityKind, body: Body, min: usize, max: usize) -> Rule {
    Rule { prefix, kind, body, min, max }
}

/// Longer prefixes first where one extends another (`sk-ant-` before `sk-`).
const RULES: &[Rule] = &[
    rule(b"AKIA", EntityKind::AwsAccessKey, Body::UpperDigit, 16, 16),
    rule(b"ASIA", EntityKind::AwsAccessKey, Body::UpperDigit, 16, 16),
    rule(b"AIza", EntityKind::GoogleApiKey, Body::Token, 35, 35),
    rule(b"ghp_", EntityKind::GithubToken, Body::Alnum, 36, 251),
    rule(b"gho_", EntityKind::GithubToken, Body::Alnum, 36, 251),
    rule(b"ghu_", EntityKind::GithubToken, Body::Alnum, 36, 251),
    rule(b"ghs_", EntityKind::GithubToken, Body::Alnum, 36, 251),
    rule(b"ghr_", EntityKind::GithubToken, Body::Alnum, 36, 251),
    rule(b"github_pat_", EntityKind::GithubToken, Body::AlnumUnderscore, 22, 244),
    rule(b"glpat-", EntityKind::GitlabToken, Body::Token, 20, 250),
    rule(b"xoxb-", EntityKind::SlackToken, Body::AlnumDash, 10, 250),
    rule(b"xoxa-", EntityKind::SlackToken, Body::AlnumDash, 10, 250),
    rule(b"xoxp-", EntityKind::SlackToken, Body::AlnumDash, 10, 250),
    rule(b"xoxr-", EntityKind::SlackToken, Body::AlnumDash, 10, 250),
    rule(b"xoxs-", EntityKind::SlackToken, Body::AlnumDash, 10, 250),
    rule(b"sk_live_", EntityKind::StripeKey, Body::Alnum, 16, 247),
    rule(b"sk_test_", EntityKind::StripeKey, Body::Alnum, 16, 247),
    rule(b"rk_live_", EntityKind::StripeKey, Body::Alnum, 16, 247),
    rule(b"rk_test_", EntityKind::StripeKey, Body::Alnum, 16, 247),
    rule(b"sk-ant-", EntityKind::AnthropicKey, Body::Token, 20, 250),
    rule(b"sk-", EntityKind::OpenaiKey, Body::Token, 20, 250),
];

/// Vendor-prefixed keys and tokens at a token start `s`.
pub(crate) fn prefixed(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    let first = sc.b.get(s).copied();
    for r in RULES.iter().filter(|r| r.prefix.first().copied() == first) {
        let mut matched = true;
        for (k, &p) in r.prefix.iter().enumerate().skip(1) {
            if sc.at(s + k, s)? != Some(p) {
                matched = false;
                break;
            }
        }
        if !matched {
            continue;
        }
        let b0 = s + r.prefix.len();
        let mut k = b0;
        while sc.at(k, s)?.is_some_and(|c| r.body.accepts(c)) {
            k += 1;
            if k - b0 > r.max {
                return Ok(());
            }
        }
        let body = sc.slice(b0, k);
        if body.len() < r.min || sc.at(k, s)?.is_some_and(is_alnum) || is_placeholder(body) {
            return Ok(());
        }
        let plausible = match r.kind {
            EntityKind::OpenaiKey | EntityKind::AnthropicKey => {
                body.iter().any(u8::is_ascii_digit)
                    && body.iter().any(u8::is_ascii_alphabetic)
                    && !entropy_below(body, 3.0)
            }
            EntityKind::SlackToken => body.iter().any(u8::is_ascii_digit),
            _ => true,
        };
        if plausible && sink.wants(r.kind) {
            sink.push(r.kind, s, k);
        }
        return Ok(());
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Backs `i` off to the start of a UTF-8 character.
fn char_floor(b: &[u8], mut i: usize, min: usize) -> usize {
    while i > min && b.get(i).is_some_and(|&c| c & 0xC0 == 0x80) {
        i -= 1;
    }
    i
}

/// PEM private key block at a `-` (`-----BEGIN ... PRIVATE KEY-----`).
pub(crate) fn pem(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    if !sink.wants(EntityKind::PrivateKey) {
        return Ok(());
    }
    const BEGIN: &[u8] = b"-----BEGIN ";
    for (k, &p) in BEGIN.iter().enumerate().skip(1) {
        if sc.at(s + k, s)? != Some(p) {
            return Ok(());
        }
    }
    let h0 = s + BEGIN.len();
    let head_window = sc.slice(h0, h0 + 64);
    let Some(h) = find(head_window, b"-----") else {
        return if head_window.len() < 64 && !sc.fin { Err(Hold(s)) } else { Ok(()) };
    };
    let header = head_window.get(..h).unwrap_or(&[]);
    if find(header, b"PRIVATE KEY").is_none() || header.contains(&b'\n') {
        return Ok(());
    }
    let body0 = h0 + h + 5;
    let limit = s + MAX_PRIVATE_KEY_BYTES;
    let len = sc.b.len();
    let Some(e) = find(sc.slice(body0, limit), b"-----END") else {
        return if len >= limit {
            sink.push(EntityKind::PrivateKey, s, char_floor(sc.b, limit, s));
            Ok(())
        } else if sc.fin {
            sink.push(EntityKind::PrivateKey, s, len);
            Ok(())
        } else {
            Err(Hold(s))
        };
    };
    let tail0 = body0 + e + 8;
    let tail = sc.slice(tail0, tail0 + 80);
    let end = match find(tail, b"-----") {
        Some(f) => tail0 + f + 5,
        None if tail.len() < 80 && !sc.fin => return Err(Hold(s)),
        None => tail0 + tail.iter().position(|&c| c == b'\n').unwrap_or(tail.len()),
    };
    sink.push(EntityKind::PrivateKey, s, char_floor(sc.b, end.min(len), s));
    Ok(())
}

fn is_b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// JSON Web Token at a token start `s` (`eyJ`): three base64url segments,
/// the first decoding to a JSON object with `alg`.
pub(crate) fn jwt(sc: &Scan<'_>, s: usize, sink: &mut Sink<'_>) -> Step {
    // Inside a longer base64url run (`...-eyJ`) is not a start: this also keeps
    // the scan linear on adversarial input such as `eyJ-eyJ-eyJ-...`.
    if !sink.wants(EntityKind::Jwt) || matches!(sc.prev(s), Some(b'-' | b'_')) {
        return Ok(());
    }
    if sc.at(s + 1, s)? != Some(b'y') || sc.at(s + 2, s)? != Some(b'J') {
        return Ok(());
    }
    let mut dots = [0usize; 2];
    let mut nd = 0;
    let mut k = s;
    loop {
        match sc.at(k, s)? {
            Some(c) if is_b64url(c) => {}
            Some(b'.') if nd < 2 => {
                if let Some(d) = dots.get_mut(nd) {
                    *d = k;
                }
                nd += 1;
            }
            _ => break,
        }
        k += 1;
        if k - s > MAX_JWT_BYTES {
            return Ok(());
        }
    }
    let [d1, d2] = dots;
    if nd != 2 || d1 - s < 10 || d2 - d1 < 3 {
        return Ok(());
    }
    let Ok(header) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sc.slice(s, d1)) else {
        return Ok(());
    };
    let has_alg = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&header)
        .is_ok_and(|m| m.contains_key("alg"));
    if has_alg {
        sink.push(EntityKind::Jwt, s, k);
    }
    Ok(())
}
