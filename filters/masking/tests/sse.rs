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
fn events_without_pii_pass_through_unchanged_but_for_line_ends() {
    let m = Arc::new(Masker::new());
    let body = "retry: 1000\n\nid: 7\nevent: custom\ndata: not json, nothing to mask\ndata:\n\n: comment\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[]},\"finish_reason\":null}]}\r\n\r\ndata: {\"type\": \"ping\", \"x\": \"caf\\u00e9\"}\n\n";
    let out = run(&m, &[body.as_bytes()]);
    // CRLF (and CR) line ends go out as LF; nothing else changes.
    assert_eq!(String::from_utf8(out).unwrap(), body.replace("\r\n", "\n"));
}

#[test]
fn non_json_data_is_masked_as_plain_text() {
    let m = Arc::new(Masker::new());
    let body =
        "id: 7\nevent: custom\ndata: not json 4111111111111111\ndata: mail jane@example.com.\n\n";
    let out = run(&m, &[body.as_bytes()]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "id: 7\nevent: custom\ndata: not json [CREDIT_CARD]\ndata: mail \n\nevent: custom\ndata: [EMAIL].\n\n"
    );
    // The address may go on in the next event: it is held until the end.
    let out = run(&m, &[b"data: mail jane@example.com\n\n"]);
    assert_eq!(String::from_utf8(out).unwrap(), "data: mail \n\ndata: [EMAIL]\n\n");
    let invalid_utf8 = b"data: \xff jane@example.com\n\n";
    let out = run(&m, &[invalid_utf8]);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "data: \u{fffd} \n\ndata: [EMAIL]\n\n"
    );
}

/// Plain-text token streams: an entity split across events, at every byte
/// boundary of the body, comes out masked, and the texts of the events add
/// up to the masked whole. Events with another name are another stream, and
/// a JSON event ends the plain ones first.
#[test]
fn plain_text_events_are_one_continuing_text() {
    let m = Arc::new(Masker::new());
    let pieces = ["card 4111 11", "11 1111 1111 mail ja", "ne.doe@exa", "mple.com key AKIAZ7Q2", "VHNK3RJXW4PB ok"];
    let body: String = pieces.iter().map(|p| format!("event: token\ndata: {p}\n\n")).collect();
    let expected = "card [CREDIT_CARD] mail [EMAIL] key [AWS_ACCESS_KEY] ok";
    let text_of = |out: &[u8]| -> String {
        let out = String::from_utf8_lossy(out);
        out.split("\n\n")
            .filter_map(|ev| ev.lines().find_map(|l| l.strip_prefix("data: ")).map(str::to_owned))
            .collect()
    };
    for cut in 0..body.len() {
        let (a, b) = body.as_bytes().split_at(cut);
        let out = run(&m, &[a, b]);
        assert_eq!(text_of(&out), expected, "cut at {cut}");
        assert!(!String::from_utf8_lossy(&out).contains("4111"));
    }
    // Tokens that parse as JSON scalars (a number, `true`) are text too.
    let scalars: String = ["my card is 4111 ", "1111", " 1111 1111 ok mail ja", "true", "ne@example.com."]
        .iter()
        .map(|p| format!("data: {p}\n\n"))
        .collect();
    let out = run(&m, &[scalars.as_bytes()]);
    assert_eq!(text_of(&out), "my card is [CREDIT_CARD] ok mail [EMAIL].");
    // So are tokens that start like JSON but are not (a markdown link).
    let link: String = ["see [docs", "](https://x.io) or mail jane@", "example.com."].iter().map(|p| format!("data: {p}\n\n")).collect();
    let out = run(&m, &[link.as_bytes()]);
    assert_eq!(text_of(&out), "see [docs](https://x.io) or mail [EMAIL].");
    let mixed = "event: token\ndata: mail jane@exam\n\nevent: log\ndata: ple.com\n\n\
                 event: token\ndata: ple.com done\n\ndata: {\"type\": \"ping\"}\n\n";
    let out = String::from_utf8(run(&m, &[mixed.as_bytes()])).unwrap();
    assert_eq!(
        out,
        "event: token\ndata: mail \n\nevent: log\ndata: \n\nevent: token\ndata: [EMAIL] \n\n\
         event: log\ndata: ple.com\n\nevent: token\ndata: done\n\ndata: {\"type\": \"ping\"}\n\n"
    );
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

// ---- Tool calls, reasoning, thinking, the Responses API, unknown events ----

/// Concatenated streamed text per stream, labelled by format and position.
fn streamed(body: &[u8]) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut add = |label: String, text: Option<&str>| {
        if let Some(t) = text {
            out.entry(label).or_default().push_str(t);
        }
    };
    for (_, v) in events(body) {
        if let Some(choices) = v["choices"].as_array() {
            for c in choices {
                let i = &c["index"];
                add(
                    format!("choice {i}"),
                    c["delta"]["content"].as_str().or(c["text"].as_str()),
                );
                add(
                    format!("choice {i} reasoning"),
                    c["delta"]["reasoning_content"].as_str(),
                );
                for call in c["delta"]["tool_calls"].as_array().into_iter().flatten() {
                    add(
                        format!("choice {i} tool {}", call["index"]),
                        call["function"]["arguments"].as_str(),
                    );
                }
            }
            continue;
        }
        let i = &v["index"];
        match v["type"].as_str().unwrap_or("") {
            "content_block_start" => {
                add(format!("block {i}"), v["content_block"]["text"].as_str());
                add(
                    format!("block {i} thinking"),
                    v["content_block"]["thinking"].as_str(),
                );
            }
            "content_block_delta" => {
                let d = &v["delta"];
                add(format!("block {i}"), d["text"].as_str());
                add(format!("block {i} thinking"), d["thinking"].as_str());
                add(format!("block {i} json"), d["partial_json"].as_str());
            }
            kind => {
                if let Some(stream) = kind.strip_suffix(".delta") {
                    let part = if v["summary_index"].is_null() {
                        &v["content_index"]
                    } else {
                        &v["summary_index"]
                    };
                    add(
                        format!("{stream} {} {part}", v["output_index"]),
                        v["delta"].as_str(),
                    );
                }
            }
        }
    }
    out
}

/// The events of `body` whose `type` is `kind`.
fn of_type(body: &[u8], kind: &str) -> Vec<Value> {
    events(body)
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v["type"] == kind)
        .collect()
}

fn assert_no_leak(out: &[u8], raws: &[&str]) {
    let text = String::from_utf8_lossy(out);
    for raw in raws {
        assert!(!text.contains(raw), "{raw} leaked: {text}");
    }
}

fn tool_chunk(choice: u64, calls: Value, finish: Option<&str>) -> String {
    let v = json!({"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [{"index": choice, "delta": {"tool_calls": calls}, "logprobs": null, "finish_reason": finish}]});
    format!("data: {v}\n\n")
}

/// A chat stream with two tool calls whose arguments arrive interleaved.
fn tool_call_stream(a: &[&str], b: &[&str]) -> String {
    let mut s = tool_chunk(
        0,
        json!([{"index": 0, "id": "call_a", "type": "function", "function": {"name": "charge", "arguments": ""}}]),
        None,
    );
    s.push_str(&tool_chunk(0, json!([{"index": 1, "id": "call_b", "type": "function", "function": {"name": "notify", "arguments": ""}}]), None));
    for i in 0..a.len().max(b.len()) {
        if let Some(x) = a.get(i) {
            s.push_str(&tool_chunk(
                0,
                json!([{"index": 0, "function": {"arguments": x}}]),
                None,
            ));
        }
        if let Some(y) = b.get(i) {
            s.push_str(&tool_chunk(
                0,
                json!([{"index": 1, "function": {"arguments": y}}]),
                None,
            ));
        }
    }
    s.push_str(&chat_event(0, None, Some("tool_calls")));
    s.push_str("data: [DONE]\n\n");
    s
}

#[test]
fn chat_tool_call_arguments_are_streams_of_their_own() {
    let m = Arc::new(Masker::new());
    let a = [
        "{\"card\": \"4111 1111 ",
        "1111 1111\", \"mail\": \"jane.d",
        "oe@example.com\"}",
    ];
    let b = ["{\"key\": \"AKIAZ7Q2L4", "M6N8P0R2T4\"}"];
    let body = tool_call_stream(&a, &b);
    let out = run(&m, &[body.as_bytes()]);
    let s = streamed(&out);
    assert_eq!(s["choice 0 tool 0"], m.mask(&a.concat()).text);
    assert_eq!(
        s["choice 0 tool 0"],
        "{\"card\": \"[CREDIT_CARD]\", \"mail\": \"[EMAIL]\"}"
    );
    assert_eq!(s["choice 0 tool 1"], "{\"key\": \"[AWS_ACCESS_KEY]\"}");
    assert_no_leak(&out, &["4111", "jane", "AKIA"]);
    // Held text goes out before the finish chunk, as a tool-call delta.
    let evs = events(&out);
    let finish = evs
        .iter()
        .position(|e| e.1["choices"][0]["finish_reason"] == "tool_calls")
        .unwrap();
    let extra = &evs[finish - 1].1;
    assert_eq!(extra["choices"][0]["delta"]["tool_calls"][0]["index"], 0);
    assert_eq!(extra["id"], "chatcmpl-2");
    assert_eq!(
        evs[0].1["choices"][0]["delta"]["tool_calls"][0]["function"]["name"],
        "charge"
    );
}

#[test]
fn chat_reasoning_and_content_of_one_choice_do_not_mix() {
    let m = Arc::new(Masker::new());
    let ev = |field: &str, text: &str| {
        format!(
            "data: {}\n\n",
            json!({"id": "c", "choices": [{"index": 0, "delta": {field: text}, "finish_reason": null}]})
        )
    };
    // The reasoning ends on "4111 1111" and the content goes on with
    // " 1111 1111": two texts, so no card number is made up across them.
    let body = [
        ev("reasoning_content", "mail a@b."),
        ev("content", "card 4111 1111"),
        ev("reasoning_content", "io 4111 1111"),
        ev("content", " 1111 1111"),
    ]
    .concat()
        + &chat_event(0, None, Some("stop"));
    let out = run(&m, &[body.as_bytes()]);
    let s = streamed(&out);
    assert_eq!(s["choice 0 reasoning"], "mail [EMAIL] 4111 1111");
    assert_eq!(s["choice 0"], "card [CREDIT_CARD]");
}

fn anthropic_event(kind: &str, v: Value) -> String {
    format!("event: {kind}\ndata: {v}\n\n")
}

/// A message with a thinking block, a text block whose start carries text,
/// and a tool_use block with streamed input.
fn anthropic_thinking_stream(
    thinking: &[&str],
    text_start: &str,
    text: &[&str],
    json_parts: &[&str],
) -> String {
    let mut s = anthropic_event(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "m"}}),
    );
    s.push_str(&anthropic_event("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})));
    for t in thinking {
        s.push_str(&anthropic_event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": t}})));
    }
    s.push_str(&anthropic_event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": SIGNATURE}})));
    s.push_str(&anthropic_event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    ));
    s.push_str(&anthropic_event("content_block_start", json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": text_start}})));
    for t in text {
        s.push_str(&anthropic_event("content_block_delta", json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": t}})));
    }
    s.push_str(&anthropic_event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 1}),
    ));
    s.push_str(&anthropic_event("content_block_start", json!({"type": "content_block_start", "index": 2, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}})));
    for j in json_parts {
        s.push_str(&anthropic_event("content_block_delta", json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": j}})));
    }
    s.push_str(&anthropic_event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 2}),
    ));
    s.push_str(&anthropic_event("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 9}})));
    s.push_str(&anthropic_event(
        "message_stop",
        json!({"type": "message_stop"}),
    ));
    s
}

/// A signature that itself looks like a secret: it must pass untouched.
const SIGNATURE: &str = "EqQBCkYIBxgCKkAKey AKIAZ7Q2L4M6N8P0R2T4 jane@example.com";

#[test]
fn anthropic_thinking_text_start_and_tool_input_are_masked() {
    let m = Arc::new(Masker::new());
    let thinking = [
        "The user jane.d",
        "oe@example.com wants card 5555 55",
        "55 5555 4444",
    ];
    let text = ["1111 1111 1111", " noted."];
    let json_parts = [
        "{\"key\": \"AKIAZ7Q2",
        "L4M6N8P0R2T4\", \"ssn\": \"123-4",
        "5-6789\"}",
    ];
    let body = anthropic_thinking_stream(&thinking, "Card 4111 ", &text, &json_parts);
    let out = run(&m, &[body.as_bytes()]);
    let s = streamed(&out);
    assert_eq!(
        s["block 0 thinking"],
        "The user [EMAIL] wants card [CREDIT_CARD]"
    );
    assert_eq!(s["block 1"], "Card [CREDIT_CARD] noted.");
    assert_eq!(
        s["block 2 json"],
        "{\"key\": \"[AWS_ACCESS_KEY]\", \"ssn\": \"[US_SSN]\"}"
    );
    let signature = of_type(&out, "content_block_delta")
        .into_iter()
        .find(|e| e["delta"]["type"] == "signature_delta")
        .unwrap();
    assert_eq!(
        signature["delta"]["signature"], SIGNATURE,
        "signatures pass unchanged"
    );
    // Held thinking goes out as a thinking_delta named content_block_delta before its block stops.
    let text_out = String::from_utf8(out.clone()).unwrap();
    assert!(text_out.contains("event: content_block_delta\ndata: {\"delta\":{\"thinking\":\"[CREDIT_CARD]\",\"type\":\"thinking_delta\"},\"index\":0,\"type\":\"content_block_delta\"}\n\n"), "{text_out}");
    let without_signature = text_out.replace(SIGNATURE, "");
    assert_no_leak(
        without_signature.as_bytes(),
        &["jane", "5555", "4111", "AKIA", "123-4"],
    );
    assert_eq!(
        r(&m, &body).counts(),
        BTreeMap::from([
            ("aws_access_key".into(), 1),
            ("credit_card".into(), 2),
            ("email".into(), 1),
            ("us_ssn".into(), 1)
        ])
    );
}

/// A rewriter that has been fed `body` whole.
fn r(m: &Arc<Masker>, body: &str) -> SseRewriter<StreamMasker> {
    let mut rw = rewriter(m);
    rw.push(body.as_bytes());
    rw.finish();
    rw
}

fn responses_event(v: Value) -> String {
    format!("event: {}\ndata: {v}\n\n", v["type"].as_str().unwrap())
}

/// A Responses API stream as OpenAI sends it: a reasoning item with a
/// summary, a message whose text arrives in `deltas`, a function call whose
/// arguments arrive in `args`, then `response.completed` with everything.
fn responses_stream(summary: &[&str], deltas: &[&str], args: &[&str]) -> String {
    let mut seq = 0u64;
    let mut s = String::new();
    let mut push = |mut v: Value| {
        v["sequence_number"] = json!(seq);
        seq += 1;
        s.push_str(&responses_event(v));
    };
    let (summary_text, text, arguments) = (summary.concat(), deltas.concat(), args.concat());
    let resp = |status: &str, output: Value| json!({"id": "resp_1", "object": "response", "created_at": 1, "status": status, "model": "m", "output": output});
    push(json!({"type": "response.created", "response": resp("in_progress", json!([]))}));
    push(json!({"type": "response.in_progress", "response": resp("in_progress", json!([]))}));
    let reasoning = |summary: &str| json!({"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": summary}]});
    push(
        json!({"type": "response.output_item.added", "output_index": 0, "item": {"id": "rs_1", "type": "reasoning", "summary": []}}),
    );
    push(
        json!({"type": "response.reasoning_summary_part.added", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}),
    );
    for d in summary {
        push(
            json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "delta": d}),
        );
    }
    push(
        json!({"type": "response.reasoning_summary_text.done", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "text": summary_text}),
    );
    push(
        json!({"type": "response.reasoning_summary_part.done", "item_id": "rs_1", "output_index": 0, "summary_index": 0, "part": {"type": "summary_text", "text": summary_text}}),
    );
    push(
        json!({"type": "response.output_item.done", "output_index": 0, "item": reasoning(&summary_text)}),
    );
    let part =
        |t: &str| json!({"type": "output_text", "text": t, "annotations": [], "logprobs": []});
    let message = |t: &str, status: &str| json!({"id": "msg_1", "type": "message", "status": status, "role": "assistant", "content": [part(t)]});
    push(
        json!({"type": "response.output_item.added", "output_index": 1, "item": {"id": "msg_1", "type": "message", "status": "in_progress", "role": "assistant", "content": []}}),
    );
    push(
        json!({"type": "response.content_part.added", "item_id": "msg_1", "output_index": 1, "content_index": 0, "part": part("")}),
    );
    for d in deltas {
        push(
            json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": d, "logprobs": []}),
        );
    }
    push(
        json!({"type": "response.output_text.done", "item_id": "msg_1", "output_index": 1, "content_index": 0, "text": text, "logprobs": []}),
    );
    push(
        json!({"type": "response.content_part.done", "item_id": "msg_1", "output_index": 1, "content_index": 0, "part": part(&text)}),
    );
    push(
        json!({"type": "response.output_item.done", "output_index": 1, "item": message(&text, "completed")}),
    );
    let call = |a: &str| json!({"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_1", "name": "lookup", "arguments": a});
    push(json!({"type": "response.output_item.added", "output_index": 2, "item": call("")}));
    for a in args {
        push(
            json!({"type": "response.function_call_arguments.delta", "item_id": "fc_1", "output_index": 2, "delta": a}),
        );
    }
    push(
        json!({"type": "response.function_call_arguments.done", "item_id": "fc_1", "output_index": 2, "arguments": arguments}),
    );
    push(json!({"type": "response.output_item.done", "output_index": 2, "item": call(&arguments)}));
    push(
        json!({"type": "response.completed", "response": resp("completed", json!([reasoning(&summary_text), message(&text, "completed"), call(&arguments)]))}),
    );
    s
}

/// Every full text a Responses API stream repeats after its deltas.
fn responses_full_texts(out: &[u8]) -> Vec<String> {
    let mut texts = Vec::new();
    for (_, v) in events(out) {
        let found: Vec<&Value> = match v["type"].as_str().unwrap_or("") {
            "response.output_text.done" | "response.reasoning_summary_text.done" => {
                vec![&v["text"]]
            }
            "response.function_call_arguments.done" => vec![&v["arguments"]],
            "response.content_part.done" | "response.reasoning_summary_part.done" => {
                vec![&v["part"]["text"]]
            }
            "response.output_item.done" => vec![
                &v["item"]["arguments"],
                &v["item"]["content"][0]["text"],
                &v["item"]["summary"][0]["text"],
            ],
            "response.completed" => v["response"]["output"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|i| {
                    [
                        &i["arguments"],
                        &i["content"][0]["text"],
                        &i["summary"][0]["text"],
                    ]
                })
                .collect(),
            _ => vec![],
        };
        texts.extend(
            found
                .into_iter()
                .filter_map(Value::as_str)
                .map(str::to_owned),
        );
    }
    texts
}

#[test]
fn responses_api_deltas_and_repeated_full_texts_are_masked_alike() {
    let m = Arc::new(Masker::new());
    let summary = ["User jane.d", "oe@example.com asks"];
    let deltas = [
        "Your card 4111 ",
        "1111 1111",
        " 1111 is on file; key AKIAZ7Q2",
        "L4M6N8P0R2T4",
    ];
    let args = ["{\"iban\": \"DE89 3704 ", "0044 0532 0130 00\"}"];
    let body = responses_stream(&summary, &deltas, &args);
    let out = run(&m, &[body.as_bytes()]);
    let s = streamed(&out);
    assert_eq!(
        s["response.reasoning_summary_text 0 0"],
        "User [EMAIL] asks"
    );
    assert_eq!(
        s["response.output_text 1 0"],
        "Your card [CREDIT_CARD] is on file; key [AWS_ACCESS_KEY]"
    );
    assert_eq!(
        s["response.function_call_arguments 2 null"],
        "{\"iban\": \"[IBAN]\"}"
    );
    let full = responses_full_texts(&out);
    assert_eq!(full.len(), 4 + 4 + 3, "{full:?}");
    for text in &full {
        assert!(
            s.values().any(|streamed| streamed == text),
            "a repeated full text differs from its deltas: {text:?}"
        );
    }
    assert_no_leak(&out, &["jane", "4111", "1111 1111", "AKIA", "DE89", "0044"]);
    // The held key goes out as an output_text delta, before output_text.done,
    // with the stream's ids and the last sequence number seen.
    let evs = events(&out);
    let done = evs
        .iter()
        .position(|e| e.1["type"] == "response.output_text.done")
        .unwrap();
    let (name, extra) = &evs[done - 1];
    assert_eq!(name.as_deref(), Some("response.output_text.delta"));
    assert_eq!(extra["delta"], "[AWS_ACCESS_KEY]");
    assert_eq!(
        (
            extra["item_id"].as_str(),
            extra["output_index"].as_u64(),
            extra["content_index"].as_u64()
        ),
        (Some("msg_1"), Some(1), Some(0))
    );
    assert_eq!(extra["sequence_number"], evs[done - 2].1["sequence_number"]);
    assert_eq!(extra["logprobs"], json!([]));
    // Entities are counted once, not again for every repeat.
    assert_eq!(
        r(&m, &body).counts(),
        BTreeMap::from([
            ("aws_access_key".into(), 1),
            ("credit_card".into(), 1),
            ("email".into(), 1),
            ("iban".into(), 1)
        ])
    );
}

#[test]
fn responses_refusal_and_unknown_delta_kinds_are_streamed() {
    let m = Arc::new(Masker::new());
    let ev = |kind: &str, d: &str| {
        responses_event(
            json!({"type": kind, "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": d}),
        )
    };
    let body = [
        ev("response.refusal.delta", "I won't mail jane.d"),
        ev("response.future_text.delta", "card 4111 1111 "),
        ev("response.refusal.delta", "oe@example.com"),
        ev("response.future_text.delta", "1111 1111"),
        responses_event(json!({"type": "response.refusal.done", "item_id": "msg_1", "output_index": 0, "content_index": 0, "refusal": "I won't mail jane.doe@example.com"})),
    ]
    .concat();
    let out = run(&m, &[body.as_bytes()]);
    let s = streamed(&out);
    assert_eq!(s["response.refusal 0 0"], "I won't mail [EMAIL]");
    assert_eq!(s["response.future_text 0 0"], "card [CREDIT_CARD]");
    assert_eq!(
        of_type(&out, "response.refusal.done")[0]["refusal"],
        "I won't mail [EMAIL]"
    );
    assert_no_leak(&out, &["jane", "4111"]);
}

#[test]
fn unknown_events_are_masked_whole_and_counted() {
    let m = Arc::new(Masker::new());
    let body = [
        "event: surprise\ndata: {\"type\":\"brand_new\",\"payload\":{\"notes\":[\"mail jane@example.com\",{\"card\":\"4111 1111 1111 1111\"}],\"n\":3}}\n\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"content\":[{\"type\":\"text\",\"text\":\"key AKIAZ7Q2L4M6N8P0R2T4\"}]}}\n\n",
        "data: [\"ssn 123-45-6789\", 7]\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"logprobs\":{\"content\":[{\"token\":\"a@b.io\",\"logprob\":0}]},\"finish_reason\":null}],\"extra\":\"ip 10.0.0.1\"}\n\n",
    ]
    .concat();
    let out = run(&m, &[body.as_bytes()]);
    let evs = events(&out);
    assert_eq!(evs[0].0.as_deref(), Some("surprise"));
    assert_eq!(
        evs[0].1,
        json!({"type": "brand_new", "payload": {"notes": ["mail [EMAIL]", {"card": "[CREDIT_CARD]"}], "n": 3}})
    );
    assert_eq!(
        evs[1].1["message"]["content"][0]["text"],
        "key [AWS_ACCESS_KEY]"
    );
    assert_eq!(evs[2].1, json!(["ssn [US_SSN]", 7]));
    assert_eq!(
        evs[3].1["choices"][0]["logprobs"],
        Value::Null,
        "logprobs are dropped"
    );
    assert_eq!(evs[3].1["extra"], "ip [IPV4]");
    assert_eq!(evs[3].1["choices"][0]["delta"]["role"], "assistant");
    let counts = r(&m, &body).counts();
    assert_eq!(counts.values().sum::<u32>(), 5, "{counts:?}");
}

#[test]
fn anthropic_error_event_ends_every_stream_first() {
    let m = Arc::new(Masker::new());
    let body = [
        anthropic_event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "card 4111 1111 1111 1111"}})),
        anthropic_event("error", json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})),
    ]
    .concat();
    let out = run(&m, &[body.as_bytes()]);
    let evs = events(&out);
    assert_eq!(evs.len(), 3);
    assert_eq!(evs[1].1["delta"]["text"], "[CREDIT_CARD]");
    assert_eq!(evs[2].1["type"], "error");
}

/// The formats the property test streams one text through.
#[derive(Debug, Clone, Copy)]
enum Shape {
    ChatContent,
    ChatTool,
    AnthropicText,
    AnthropicThinking,
    AnthropicJson,
    ResponsesText,
    ResponsesArgs,
    ResponsesSummary,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop::sample::select(vec![
        Shape::ChatContent,
        Shape::ChatTool,
        Shape::AnthropicText,
        Shape::AnthropicThinking,
        Shape::AnthropicJson,
        Shape::ResponsesText,
        Shape::ResponsesArgs,
        Shape::ResponsesSummary,
    ])
}

/// A body streaming `deltas` in `shape`, and the label of that stream in [`streamed`].
fn shaped(shape: Shape, deltas: &[&str]) -> (String, &'static str) {
    match shape {
        Shape::ChatContent => (chat_stream(deltas), "choice 0"),
        Shape::ChatTool => (tool_call_stream(&["{}"], deltas), "choice 0 tool 1"),
        Shape::AnthropicText => (
            anthropic_thinking_stream(&["hmm"], "", deltas, &["{}"]),
            "block 1",
        ),
        Shape::AnthropicThinking => (
            anthropic_thinking_stream(deltas, "ok", &[], &["{}"]),
            "block 0 thinking",
        ),
        Shape::AnthropicJson => (
            anthropic_thinking_stream(&["hmm"], "ok", &[], deltas),
            "block 2 json",
        ),
        Shape::ResponsesText => (
            responses_stream(&["s"], deltas, &["{}"]),
            "response.output_text 1 0",
        ),
        Shape::ResponsesArgs => (
            responses_stream(&["s"], &["t"], deltas),
            "response.function_call_arguments 2 null",
        ),
        Shape::ResponsesSummary => (
            responses_stream(deltas, &["t"], &["{}"]),
            "response.reasoning_summary_text 0 0",
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: common::cases(256), ..ProptestConfig::default() })]

    #[test]
    fn every_format_masks_split_text_like_the_whole(
        text in common::text(),
        delta_cuts in prop::collection::vec(0.0f64..1.0, 0..10),
        byte_cuts in prop::collection::vec(0.0f64..1.0, 0..10),
        shape in shape(),
    ) {
        let m = common::rich_masker();
        let deltas = common::split(&text, &delta_cuts);
        let deltas: Vec<&str> = deltas.iter().map(String::as_str).collect();
        let (body, label) = shaped(shape, &deltas);
        let pieces = split_bytes(body.as_bytes(), &byte_cuts);
        let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        let out = run(&m, &pieces);
        let want = m.mask(&text).text;
        let got = streamed(&out).remove(label).unwrap_or_default();
        prop_assert_eq!(&got, &want);
        if matches!(shape, Shape::ResponsesText | Shape::ResponsesArgs | Shape::ResponsesSummary) && !text.is_empty() {
            // The full text repeated by done/completed events comes out the same.
            let full = responses_full_texts(&out);
            let repeats = if matches!(shape, Shape::ResponsesArgs) { 3 } else { 4 };
            prop_assert_eq!(full.iter().filter(|t| **t == want).count(), repeats);
        }
    }
}

#[test]
fn logprobs_are_dropped_because_tokens_spell_the_text_out() {
    let m = Arc::new(Masker::new());
    let tokens = |parts: &[&str]| -> Value {
        parts.iter().map(|t| json!({"token": t, "logprob": -0.1, "bytes": t.as_bytes(), "top_logprobs": [{"token": t, "logprob": -0.1}]})).collect()
    };
    let chat = json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "jane@example.com"}, "logprobs": {"content": tokens(&["jane", "@", "example", ".com"]), "refusal": null}, "finish_reason": null}]});
    let responses = json!({"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0, "delta": "4111 1111 1111 1111", "logprobs": tokens(&["4111", " 1111", " 1111", " 1111"]), "sequence_number": 3});
    let quiet = json!({"id": "c", "choices": [{"index": 1, "delta": {"role": "assistant"}, "logprobs": null, "finish_reason": null}]});
    let body = format!("data: {chat}\n\ndata: {responses}\n\ndata: {quiet}\n\n");
    let out = run(&m, &[body.as_bytes()]);
    let evs = events(&out);
    assert_eq!(evs[0].1["choices"][0]["logprobs"], Value::Null);
    assert_eq!(evs[1].1["logprobs"], json!([]));
    let s = streamed(&out);
    assert_eq!(s["choice 0"], "[EMAIL]");
    assert_eq!(s["response.output_text 0 0"], "[CREDIT_CARD]");
    assert!(
        String::from_utf8_lossy(&out).contains(&format!("data: {quiet}\n\n")),
        "no logprobs, no change"
    );
    assert_no_leak(&out, &["jane", "4111", "example"]);
}

/// Hostile or unusual framing and payloads: nothing may pass unmasked, and
/// nothing may make the rewriter's memory grow without bound.
mod hostile {
    use super::*;

    const LEAKS: &[&str] = &["4111", "jane.doe", "AKIAZ7Q2VHNK3RJXW4PB"];

    fn assert_no_leak(out: &[u8]) {
        let text = String::from_utf8_lossy(out);
        for leak in LEAKS {
            assert!(!text.contains(leak), "{leak} leaked: {text}");
        }
    }

    fn every_split(body: &[u8]) -> Vec<Vec<u8>> {
        let masker = Arc::new(Masker::new());
        let mut outs = vec![run(&masker, &[body])];
        for cut in 1..body.len() {
            let (a, b) = body.split_at(cut);
            outs.push(run(&masker, &[a, b]));
        }
        outs
    }

    /// Plain-text streams count against the same limit as JSON ones: an
    /// upstream that names every event differently cannot open them without end.
    #[test]
    fn plain_text_streams_are_bounded_too() {
        use portcullis_masking::MAX_SSE_STREAMS;
        let body: String = (0..MAX_SSE_STREAMS + 5).map(|k| format!("event: e{k}\ndata: word\n\n")).collect();
        let out = String::from_utf8(run(&Arc::new(Masker::new()), &[body.as_bytes()])).unwrap();
        assert_eq!(out.matches("portcullis_sse_too_many_streams").count(), 5, "{}", &out[out.len().saturating_sub(600)..]);
        assert_eq!(out.matches("data: word").count(), MAX_SSE_STREAMS, "the held words go out at the end");
    }

    #[test]
    fn empty_finish_reasons_do_not_end_the_choice() {
        let chunk = |c: &str| format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": c}, "finish_reason": ""}]}));
        let body = [chunk("card 4111 1111"), chunk(" 1111 1111 mail jane.doe@exa"), chunk("mple.com")].concat();
        let out = run(&Arc::new(Masker::new()), &[body.as_bytes()]);
        assert_no_leak(&out);
        assert_eq!(contents(&out).get(&0).map(String::as_str), Some("card [CREDIT_CARD] mail [EMAIL]"));
    }

    #[test]
    fn bare_carriage_returns_end_lines_as_clients_read_them() {
        let bodies: [&[u8]; 3] = [
            b": keepalive\rdata: mail jane.doe@example.com\r\r\n\n",
            b"event: x\rdata: {\"type\":\"x\",\"t\":\"jane.doe@example.com\"}\r\r",
            b"id: 1\rdata: AKIAZ7Q2VHNK3RJXW4PB\r\r\n\n",
        ];
        for body in bodies {
            for out in every_split(body) {
                assert_no_leak(&out);
            }
        }
    }

    #[test]
    fn a_leading_byte_order_mark_does_not_hide_the_first_line() {
        let body = "\u{FEFF}data: {\"type\":\"x\",\"t\":\"jane.doe@example.com\"}\n\n".as_bytes();
        for out in every_split(body) {
            assert_no_leak(&out);
        }
    }

    #[test]
    fn duplicate_keys_at_a_streamed_path_are_masked_too() {
        let body = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"jane.doe@example.com\",\"content\":\"hello \"}}]}\n\n";
        assert_no_leak(&run(&Arc::new(Masker::new()), &[body]));
    }

    #[test]
    fn json_that_cannot_be_read_is_dropped_with_an_error_event() {
        let bodies = [
            "data: {\"id\":\"c\",\"x\":1e400,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"mail jane.doe\\u0040example.com\"}}]}\n\n",
            "data: {\"t\":\"\\ud800 card 4111\\u00201111\\u00201111\\u00201111\"}\n\n",
        ];
        for body in bodies {
            let out = run(&Arc::new(Masker::new()), &[body.as_bytes()]);
            assert_no_leak(&out);
            let evs = events(&out);
            assert_eq!(evs.len(), 1, "{evs:?}");
            assert_eq!(evs[0].1["error"]["code"], "portcullis_sse_unreadable_event");
        }
    }

    #[test]
    fn an_event_with_thousands_of_choices_is_refused_not_buffered() {
        let choices: Vec<Value> =
            (0..5000).map(|i| json!({"index": i, "delta": {"content": "hi 4111"}, "finish_reason": null})).collect();
        let body = format!("data: {}\n\n", json!({"id": "c", "choices": choices}));
        let out = run(&Arc::new(Masker::new()), &[body.as_bytes()]);
        assert_no_leak(&out);
        let evs = events(&out);
        assert_eq!(evs.len(), 1);
        assert_eq!(evs[0].1["error"]["code"], "portcullis_sse_too_many_streams");
    }

    #[test]
    fn an_openai_style_error_flushes_held_text_first() {
        let chunk = format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": "key AKIAZ7Q2VHNK3RJXW4PB"}, "finish_reason": null}]}));
        let body = format!("{chunk}data: {}\n\n", json!({"error": {"message": "overloaded", "type": "server_error"}}));
        let out = String::from_utf8(run(&Arc::new(Masker::new()), &[body.as_bytes()])).unwrap();
        let error = out.find("overloaded").unwrap();
        assert!(out[..error].contains("[AWS_ACCESS_KEY]"), "held text must go out before the error: {out}");
    }

    #[test]
    fn done_with_trailing_blanks_still_flushes_first() {
        let chunk = format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"content": "key AKIAZ7Q2VHNK3RJXW4PB"}, "finish_reason": null}]}));
        let body = format!("{chunk}data: [DONE] \n\n");
        let out = run(&Arc::new(Masker::new()), &[body.as_bytes()]);
        let text = String::from_utf8(out).unwrap();
        let done = text.find("[DONE]").unwrap();
        assert!(text[..done].contains("[AWS_ACCESS_KEY]"), "held text must go out before [DONE]: {text}");
    }
}
