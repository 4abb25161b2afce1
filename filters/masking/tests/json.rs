//! JSON body masking.

mod common;

use portcullis_masking::{Masker, MaskingPolicy, Pseudonymizer};
use serde_json::Value;

#[test]
fn masks_string_values_only_and_keeps_layout() {
    let body = r#"{
  "model": "gpt-4o",
  "messages": [
    {"role": "user", "content": "my card is 4111 1111 1111 1111 and mail a@b.io"},
    {"role": "user", "content": ["x", {"text": "IBAN DE89370400440532013000"}]}
  ],
  "a@b.io": 4111111111111111,
  "temperature": 0.2, "stream": true, "stop": null
}"#;
    let masked = Masker::new().mask_json(body).unwrap();
    let expected = body
        .replace("4111 1111 1111 1111 and mail a@b.io", "[CREDIT_CARD] and mail [EMAIL]")
        .replace("IBAN DE89370400440532013000", "IBAN [IBAN]");
    assert_eq!(masked.text, expected);
    assert_eq!(masked.counts["credit_card"], 1);
    assert_eq!(masked.counts["email"], 1);
    assert_eq!(masked.counts["iban"], 1);
    serde_json::from_str::<Value>(&masked.text).unwrap();
}

#[test]
fn escapes_are_decoded_before_and_encoded_after() {
    // The e-mail is written with escapes; the replacement must be valid JSON
    // even when the surrounding text has quotes, newlines and non-ASCII.
    let body = r#"["say \"hi\"\n to j\u0061ne@example.com \u00e9", "untouched \u00e9\/"]"#;
    let masked = Masker::new().mask_json(body).unwrap();
    let v: Vec<String> = serde_json::from_str(&masked.text).unwrap();
    assert_eq!(v, ["say \"hi\"\n to [EMAIL] é", "untouched é/"]);
    assert!(masked.text.ends_with(r#""untouched \u00e9\/"]"#), "unchanged strings keep their escapes");
}

#[test]
fn keys_are_masked_only_when_configured() {
    let body = r#"{"jane@example.com": "jane@example.com"}"#;
    assert_eq!(Masker::new().mask_json(body).unwrap().text, r#"{"jane@example.com": "[EMAIL]"}"#);
    let policy: MaskingPolicy = serde_json::from_str(r#"{"mask_json_keys": true}"#).unwrap();
    let m = Masker::from_policy(&policy, None).unwrap();
    assert_eq!(m.mask_json(body).unwrap().text, r#"{"[EMAIL]": "[EMAIL]"}"#);
}

#[test]
fn invalid_bodies_are_errors() {
    let m = Masker::new();
    for bad in ["", "{", r#"{"a": "4111111111111111""#, "{'a': 1}", "[1,]", r#"{"a":1} x"#] {
        assert!(m.mask_json(bad).is_err(), "{bad:?}");
    }
    let deep = "[".repeat(200) + &"]".repeat(200);
    assert!(m.mask_json(&deep).is_err());
    assert!(m.mask_json_bytes(b"\"\xff\"", &mut Pseudonymizer::new()).is_err());
    let err = m.mask_json("{").unwrap_err();
    assert!(err.to_string().contains("not valid JSON"), "{err}");
}

#[test]
fn pseudonyms_are_shared_across_values_and_restored() {
    let m = common::rich_masker();
    let mut pseudo = Pseudonymizer::new();
    let body = r#"{"messages":[{"content":"write to a@b.io"},{"content":"and cc a@b.io, c@d.io"}]}"#;
    let masked = m.mask_json_with(body, &mut pseudo).unwrap();
    assert_eq!(
        masked.text,
        r#"{"messages":[{"content":"write to [EMAIL_1]"},{"content":"and cc [EMAIL_1], [EMAIL_2]"}]}"#
    );
    let answer = "Sure, I emailed [EMAIL_2] and [EMAIL_1].";
    assert_eq!(pseudo.restore(answer), "Sure, I emailed c@d.io and a@b.io.");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: common::cases(128), ..Default::default() })]

    #[test]
    fn output_is_valid_json_with_masked_values(parts in proptest::collection::vec(common::text(), 1..5)) {
        let m = common::rich_masker();
        let body = serde_json::to_string(&serde_json::json!({"messages": parts, "n": 1})).unwrap();
        let masked = m.mask_json(&body).unwrap();
        let v: Value = serde_json::from_str(&masked.text).unwrap();
        let out: Vec<String> = serde_json::from_value(v["messages"].clone()).unwrap();
        let mut pseudo = Pseudonymizer::new();
        let expected: Vec<String> = parts.iter().map(|p| m.mask_with(p, &mut pseudo).text).collect();
        proptest::prop_assert_eq!(out, expected);
    }
}
