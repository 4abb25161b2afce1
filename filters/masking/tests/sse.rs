//! SSE rewriting for OpenAI chat, OpenAI legacy completions and Anthropic streams.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use portcullis_masking::{Masker, Pseudonymizer, SseRewriter, StreamMasker};
use proptest::prelude::*;
use serde_json::{json, Value};

fn rewriter(masker: &Arc<Masker>) -> SseRewriter<StreamMasker> {
    let m = Arc::clone(masker);
    SseRewriter::new(move || StreamMasker::new(Arc::clone(&m)))
}

fn run(masker: &Arc<Masker>, pieces: &[&[u8]]) -> Vec<u8> {
    let mut r = rewriter(masker);
    let mut out = Vec::new();
    for p in pieces {
        out.extend(r.push(p));
    }
    out.extend(r.finish());
    out
}

/// Parsed output: (event name, data) per event; every data must be `[DONE]` or JSON.
fn events(body: &[u8]) -> Vec<(Option<String>, Value)> {
    let text = String::from_utf8(body.to_vec()).unwrap().replace("\r\n", "\n");
    assert!(text.is_empty() || text.ends_with("\n\n"), "output ends mid-event: {text:?}");
    let mut out = Vec::new();
    for block in text.split("\n\n").filter(|b| !b.is_empty()) {
        let mut name = None;
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event: ") {
                name = Some(v.to_owned());
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push(v);
            }
        }
        if data.is_empty() {
            continue;
        }
        let data = data.join("\n");
        let value = if data == "[DONE]" {
            Value::String("[DONE]".into())
        } else {
            serde_json::from_str(&data).unwrap_or_else(|e| panic!("invalid JSON {data:?}: {e}"))
        };
        out.push((name, value));
    }
    out
}

/// Concatenated content per (choice or block) index.
fn contents(body: &[u8]) -> BTreeMap<u64, String> {
    let mut out: BTreeMap<u64, String> = BTreeMap::new();
    for (_, v) in events(body) {
        if let Some(choices) = v["choices"].as_array() {
            for c in choices {
                let text = c["delta"]["content"].as_str().or(c["text"].as_str());
                if let Some(t) = text {
                    out.entry(c["index"].as_u64().unwrap()).or_default().push_str(t);
                }
            }
        } else if v["type"] == "content_block_delta" {
            if let Some(t) = v["delta"]["text"].as_str() {
                out.entry(v["index"].as_u64().unwrap()).or_default().push_str(t);
            }
        }
    }
    out
}

fn chat_event(index: u64, content: Option<&str>, finish: Option<&str>) -> String {
    let delta = match content {
        Some(c) => json!({"content": c}),
        None => json!({}),
    };
    let v = json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [{"index": index, "delta": delta, "finish_reason": finish}]});
    format!("data: {v}\n\n")
}

fn chat_stream(deltas: &[&str]) -> String {
    let mut s = String::from(": keep-alive\n\ndata: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n");
    for d in deltas {
        s.push_str(&chat_event(0, Some(d), None));
    }
    s.push_str(&chat_event(0, None, Some("stop")));
    s.push_str("data: [DONE]\n\n");
    s
}

fn anthropic_stream(deltas: &[&str]) -> String {
    let mut s =
        String::from("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\"}}\n\n");
    s.push_str("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
    s.push_str("event: ping\ndata: {\"type\": \"ping\"}\n\n");
    for d in deltas {
        let v = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": d}});
        s.push_str(&format!("event: content_block_delta\ndata: {v}\n\n"));
    }
    s.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
    s.push_str("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\n");
    s.push_str("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    s
}

#[test]
fn entity_split_across_chat_deltas_is_masked() {
    let m = Arc::new(Masker::new());
    let body = chat_stream(&["Write to jane.d", "oe@exam", "ple.com or call +44 20 79", "46 0958", " now."]);
    let out = run(&m, &[body.as_bytes()]);
    assert_eq!(contents(&out)[&0], "Write to [EMAIL] or call [PHONE] now.");
    let evs = events(&out);
    assert_eq!(evs.last().unwrap().1, "[DONE]");
    assert!(!String::from_utf8_lossy(&out).contains("jane"));
    assert!(String::from_utf8_lossy(&out).starts_with(": keep-alive\n\n"), "comments pass through");
}

#[test]
fn counts_cover_every_choice() {
    let m = Arc::new(Masker::new());
    let mut r = rewriter(&m);
    let body =
        [chat_event(0, Some("a@b.io c@d.io"), None), chat_event(1, Some("4111111111111111"), Some("stop"))].concat();
    r.push(body.as_bytes());
    r.finish();
    let counts = r.counts();
    assert_eq!(counts["email"], 2);
    assert_eq!(counts["credit_card"], 1);
}

#[test]
fn held_text_goes_out_before_the_finish_event() {
    let m = Arc::new(Masker::new());
    // The stream ends on a possible entity start: it is released in an extra
    // content event placed before the event carrying finish_reason.
    let body = chat_stream(&["card 4111 1111 1111 1111"]);
    let out = run(&m, &[body.as_bytes()]);
    let evs = events(&out);
    let n = evs.len();
    assert_eq!(evs[n - 3].1["choices"][0]["delta"]["content"], "[CREDIT_CARD]");
    assert_eq!(evs[n - 2].1["choices"][0]["finish_reason"], "stop");
    assert_eq!(evs[n - 3].1["id"], "chatcmpl-1", "extra event copies the stream's fields");
    assert_eq!(contents(&out)[&0], "card [CREDIT_CARD]");
}

#[test]
fn finish_in_the_same_event_carries_the_rest() {
    let m = Arc::new(Masker::new());
    let body = format!("{}{}", chat_event(0, Some("mail a@b."), None), chat_event(0, Some("io"), Some("stop")));
    let out = run(&m, &[body.as_bytes()]);
    let evs = events(&out);
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].1["choices"][0]["delta"]["content"], "mail ");
    assert_eq!(evs[1].1["choices"][0]["delta"]["content"], "[EMAIL]");
    assert_eq!(evs[1].1["choices"][0]["finish_reason"], "stop");
}

#[test]
fn anthropic_blocks_are_masked_and_flushed_at_block_stop() {
    let m = Arc::new(Masker::new());
    let body = anthropic_stream(&["Key: AKIAZ7Q2L4", "M6N8P0R2T4", " and DE89 3704 0044 0532 0130 00"]);
    let out = run(&m, &[body.as_bytes()]);
    assert_eq!(contents(&out)[&0], "Key: [AWS_ACCESS_KEY] and [IBAN]");
    let evs = events(&out);
    let stop = evs.iter().position(|e| e.1["type"] == "content_block_stop").unwrap();
    assert_eq!(evs[stop - 1].0.as_deref(), Some("content_block_delta"));
    assert!(String::from_utf8_lossy(&out).contains("event: ping\ndata: {\"type\": \"ping\"}\n\n"));
}

#[test]
fn legacy_completions_and_multiple_choices() {
    let m = Arc::new(Masker::new());
    let ev = |i: u64, t: &str, f: Option<&str>| {
        format!(
            "data: {}\n\n",
            json!({"id": "cmpl-1", "object": "text_completion", "choices": [{"index": i, "text": t, "finish_reason": f, "logprobs": null}]})
        )
    };
    let body = [
        ev(0, "SSN 123-4", None),
        ev(1, "ip 10.0.0", None),
        ev(0, "5-6789 ok", None),
        ev(1, ".1", None),
        ev(0, "", Some("stop")),
        ev(1, "", Some("length")),
        "data: [DONE]\n\n".into(),
    ]
    .concat();
    let out = run(&m, &[body.as_bytes()]);
    let c = contents(&out);
    assert_eq!(c[&0], "SSN [US_SSN] ok");
    assert_eq!(c[&1], "ip [IPV4]");
}

#[test]
fn non_content_events_pass_through_byte_for_byte() {
    let m = Arc::new(Masker::new());
    let body = "retry: 1000\n\nid: 7\nevent: custom\ndata: not json 4111111111111111\n\n: comment\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[]},\"finish_reason\":null}]}\r\n\r\n";
    let out = run(&m, &[body.as_bytes()]);
    assert_eq!(String::from_utf8(out).unwrap(), body);
}

#[test]
fn crlf_and_tiny_pieces() {
    let m = Arc::new(Masker::new());
    let body = chat_stream(&["x a@", "b.io y"]).replace("\n", "\r\n");
    let pieces: Vec<&[u8]> = body.as_bytes().chunks(1).collect();
    let out = run(&m, &pieces);
    assert_eq!(contents(&out)[&0], "x [EMAIL] y");
}

#[test]
fn unterminated_last_event_is_still_masked() {
    let m = Arc::new(Masker::new());
    let body = chat_event(0, Some("mail a@b.io"), None);
    let body = body.trim_end();
    let out = run(&m, &[body.as_bytes()]);
    assert_eq!(contents(&out)[&0], "mail [EMAIL]");
}

#[test]
fn restore_stream_turns_placeholders_back() {
    let m = common::rich_masker();
    let mut pseudo = Pseudonymizer::new();
    let req = m.mask_with("contact jane@example.com", &mut pseudo);
    assert_eq!(req.text, "contact [EMAIL_1]");
    let pseudo = Arc::new(pseudo);
    let masker = Arc::clone(&m);
    // Responses: mask what the model says (numbering on from the request's
    // mapping, so new values get new placeholders), then restore the
    // placeholders the request introduced.
    let mut r = SseRewriter::new(move || {
        let masking = StreamMasker::with_pseudonymizer(Arc::clone(&masker), (*pseudo).clone());
        (masking, pseudo.restore_stream())
    });
    let body = chat_stream(&["I wrote to [EMA", "IL_1] and to bob@x.io"]);
    let mut out = r.push(body.as_bytes());
    out.extend(r.finish());
    assert_eq!(contents(&out)[&0], "I wrote to jane@example.com and to [EMAIL_2]");
}

fn split_bytes(body: &[u8], cuts: &[f64]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|f| ((body.len() as f64) * f) as usize).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut last = 0;
    for p in points.into_iter().chain(std::iter::once(body.len())) {
        out.push(body[last..p].to_vec());
        last = p;
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(192), ..ProptestConfig::default() })]

    #[test]
    fn any_delta_and_byte_split_masks_like_the_whole(
        text in common::text(),
        delta_cuts in prop::collection::vec(0.0f64..1.0, 0..10),
        byte_cuts in prop::collection::vec(0.0f64..1.0, 0..10),
        anthropic in any::<bool>(),
    ) {
        let m = common::rich_masker();
        let deltas = common::split(&text, &delta_cuts);
        let deltas: Vec<&str> = deltas.iter().map(String::as_str).collect();
        let body = if anthropic { anthropic_stream(&deltas) } else { chat_stream(&deltas) };
        let pieces = split_bytes(body.as_bytes(), &byte_cuts);
        let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        let out = run(&m, &pieces);
        let got = contents(&out).remove(&0).unwrap_or_default();
        prop_assert_eq!(got, m.mask(&text).text);
    }

    #[test]
    fn two_interleaved_choices(
        a in common::text(), b in common::text(),
        cuts in prop::collection::vec(0.0f64..1.0, 0..6),
    ) {
        let m = common::rich_masker();
        let da = common::split(&a, &cuts);
        let db = common::split(&b, &cuts);
        let mut body = String::new();
        for (x, y) in da.iter().zip(db.iter()) {
            body.push_str(&chat_event(0, Some(x), None));
            body.push_str(&chat_event(1, Some(y), None));
        }
        body.push_str(&chat_event(0, None, Some("stop")));
        body.push_str(&chat_event(1, None, Some("stop")));
        let out = run(&m, &[body.as_bytes()]);
        let c = contents(&out);
        prop_assert_eq!(c.get(&0).cloned().unwrap_or_default(), m.mask(&a).text);
        prop_assert_eq!(c.get(&1).cloned().unwrap_or_default(), m.mask(&b).text);
    }
}
