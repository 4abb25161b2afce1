//! Building a masker from a policy, and the operators it applies.

use portcullis_masking::{Masker, MaskingPolicy};

fn policy(json: &str) -> MaskingPolicy {
    serde_json::from_str(json).unwrap()
}

fn masker(json: &str) -> Masker {
    Masker::from_policy(&policy(json), Some(b"secret-key")).unwrap()
}

#[test]
fn default_policy_redacts_everything() {
    let m = masker("{}");
    assert_eq!(m.mask("a@b.io 4111111111111111").text, "[EMAIL] [CREDIT_CARD]");
    assert_eq!(m.entity_names().count(), 30);
}

#[test]
fn operators_per_entity() {
    let m = masker(
        r##"{"entities": {
            "credit_card": {"operator": {"partial": {"keep_last": 4}}},
            "iban": {"operator": {"partial": {"keep_last": 4, "mask_char": "#", "keep_separators": false}}},
            "email": {"operator": {"hash": {"hex_len": 12}}},
            "phone": {"operator": "pseudonymize"},
            "ipv4": {"enabled": false}
        }, "hmac_key_ref": "masking-key"}"##,
    );
    let out = m.mask("4111 1111 1111 1111 | DE89 3704 0044 0532 0130 00 | a@b.io | +1 415 555 0123 | +1 415 555 0199 | +1 415 555 0123 | 10.0.0.1");
    let parts: Vec<&str> = out.text.split(" | ").collect();
    assert_eq!(parts[0], "**** **** **** 1111");
    // keep_separators = false: spaces count as characters too (the last 4 are kept).
    assert_eq!(parts[1], format!("{}0 00", "#".repeat(23)));
    assert!(parts[2].starts_with("[EMAIL:") && parts[2].len() == "[EMAIL:]".len() + 12, "{}", parts[2]);
    assert_eq!(parts[3..6], ["[PHONE_1]", "[PHONE_2]", "[PHONE_1]"]);
    assert_eq!(parts[6], "10.0.0.1");
    // The keyed hash is stable for one key and differs across keys.
    assert_eq!(m.mask("a@b.io").text, parts[2]);
    let other = Masker::from_policy(
        &policy(r#"{"entities":{"email":{"operator":{"hash":{}}}},"hmac_key_ref":"k"}"#),
        Some(b"other"),
    )
    .unwrap();
    assert_ne!(other.mask("a@b.io").text.get(..19), parts[2].get(..19));
}

#[test]
fn default_operator_applies_to_unlisted_entities() {
    let m = masker(r#"{"default_operator": {"partial": {"keep_last": 2}}, "entities": {"email": {}}}"#);
    assert_eq!(m.mask("4111111111111111 a@b.io").text, "**************11 [EMAIL]");
}

#[test]
fn custom_regexes_and_deny_lists() {
    let m = masker(
        r#"{
            "custom": [{"name": "employee_id", "regex": "\\bEMP-[0-9]{6}\\b"},
                       {"name": "ticket", "regex": "(?i)\\bjira-[0-9]{1,6}\\b", "operator": "pseudonymize"}],
            "deny_lists": [{"name": "codename", "words": ["Bluebird", "Project Nightjar"], "case_insensitive": true},
                           {"name": "client", "words": ["ACME"]}]
        }"#,
    );
    let out =
        m.mask("EMP-123456 EMP-1234567 xEMP-123456 JIRA-42 jira-42 bluebird bluebirds Project NIGHTJAR ACME Acme");
    assert_eq!(
        out.text,
        "[EMPLOYEE_ID] EMP-1234567 xEMP-123456 [TICKET_1] [TICKET_2] [CODENAME] bluebirds [CODENAME] [CLIENT] Acme"
    );
    assert_eq!(out.counts["codename"], 2);
    assert_eq!(out.counts["employee_id"], 1);
}

#[test]
fn every_problem_is_reported() {
    let p = policy(
        r#"{
            "entities": {"emial": {}, "email": {"operator": {"hash": {}}}},
            "custom": [{"name": "a", "regex": "("}, {"name": "b", "regex": "x+"}, {"name": "c", "regex": "^x$"},
                       {"name": "d", "regex": "x?"}, {"name": "e", "regex": "[a-z]{1,2000}"}]
        }"#,
    );
    let problems = Masker::from_policy(&p, None).unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "masking.entities.emial",
            "masking.hmac_key_ref",
            "masking.custom[0].regex",
            "masking.custom[1].regex",
            "masking.custom[2].regex",
            "masking.custom[3].regex",
            "masking.custom[4].regex",
        ],
        "{problems:#?}"
    );
    assert!(problems[3].message.contains("bounded length"), "{}", problems[3].message);
}

#[test]
fn hash_needs_the_key() {
    let p = policy(r#"{"entities": {"email": {"operator": {"hash": {}}}}, "hmac_key_ref": "k"}"#);
    let problems = Masker::from_policy(&p, None).unwrap_err();
    assert_eq!(problems[0].path, "masking.hmac_key_ref");
    assert!(Masker::from_policy(&p, Some(b"key")).is_ok());
}

#[test]
fn debug_output_hides_the_key() {
    let p = policy(r#"{"entities": {"email": {"operator": {"hash": {}}}}, "hmac_key_ref": "k"}"#);
    let m = Masker::from_policy(&p, Some(b"super-secret-key")).unwrap();
    let dbg = format!("{m:?}");
    assert!(!dbg.contains("super-secret-key") && dbg.contains("<set>"), "{dbg}");
}
