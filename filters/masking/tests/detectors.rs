//! Table-driven detector tests: positives and hard negatives per entity kind.
//! `check(input, expected)` masks `input` with the default policy (every
//! detector on, redact) and compares the whole output.

use portcullis_masking::Masker;

fn check(cases: &[(&str, &str)]) {
    let m = Masker::new();
    let mut failures = Vec::new();
    for (input, expected) in cases {
        let got = m.mask(input).text;
        if got != *expected {
            failures.push(format!("\n  input:    {input:?}\n  expected: {expected:?}\n  got:      {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:{}", failures.len(), failures.concat());
}

/// Inputs that must come out unchanged.
fn untouched(inputs: &[&str]) {
    let cases: Vec<(&str, &str)> = inputs.iter().map(|s| (*s, *s)).collect();
    check(&cases);
}

#[test]
fn credit_cards() {
    check(&[
        ("visa 4111 1111 1111 1111.", "visa [CREDIT_CARD]."),
        ("4111-1111-1111-1111", "[CREDIT_CARD]"),
        ("4111111111111111", "[CREDIT_CARD]"),
        ("visa13 4222222222222", "visa13 [CREDIT_CARD]"),
        ("mc 5555 5555 5555 4444 / 5105105105105100", "mc [CREDIT_CARD] / [CREDIT_CARD]"),
        ("mc2 2223 0031 2200 3222", "mc2 [CREDIT_CARD]"),
        ("amex 3782 822463 10005, 371449635398431", "amex [CREDIT_CARD], [CREDIT_CARD]"),
        ("discover 6011 0009 9013 9424", "discover [CREDIT_CARD]"),
        ("jcb 3530111333300000 3566002020360505", "jcb [CREDIT_CARD] [CREDIT_CARD]"),
        ("diners 30569309025904 38520000023237", "diners [CREDIT_CARD] [CREDIT_CARD]"),
        ("unionpay 6200000000000005 6212 3456 7890 1265", "unionpay [CREDIT_CARD] [CREDIT_CARD]"),
        ("(4111111111111111)", "([CREDIT_CARD])"),
        ("cards:4111111111111111,5555555555554444", "cards:[CREDIT_CARD],[CREDIT_CARD]"),
        ("4111 1111 1111 1111 2025", "[CREDIT_CARD] 2025"),
        ("ref 12 4111 1111 1111 1111", "ref 12 [CREDIT_CARD]"),
    ]);
    untouched(&[
        "bad luhn 4111 1111 1111 1112",
        "4111111111111112",
        "no issuer 1234 5678 1234 5670",
        "isbn 9780306406157",
        "too long 41111111111111111111111",
        "glued x4111111111111111",
        "4111111111111111x",
        "mixed 4111 1111-1111 1111",
        "groups 41 11 11 11 11 11 11 11",
    ]);
}

#[test]
fn ibans() {
    check(&[
        ("DE89 3704 0044 0532 0130 00", "[IBAN]"),
        ("pay to DE89370400440532013000.", "pay to [IBAN]."),
        ("GB82WEST12345698765432", "[IBAN]"),
        ("GB82 WEST 1234 5698 7654 32", "[IBAN]"),
        ("FR14 2004 1010 0505 0001 3M02 606", "[IBAN]"),
        ("NL91ABNA0417164300 ES9121000418450200051332", "[IBAN] [IBAN]"),
        ("PL61 1090 1014 0000 0712 1981 2874", "[IBAN]"),
        ("BE68539007547034, CH9300762011623852957", "[IBAN], [IBAN]"),
        ("IT60X0542811101000000123456", "[IBAN]"),
    ]);
    untouched(&[
        "DE89 3704 0044 0532 0130 01",
        "DE88370400440532013000",
        "DE89 3704 0044",
        "DE8937040044053201300012",
        "GB82 WEST 1234 5698 765432",
        "XX89370400440532013000",
        "de89370400440532013000",
    ]);
}

#[test]
fn ssn_and_itin() {
    check(&[
        ("SSN 123-45-6789", "SSN [US_SSN]"),
        ("219 09 9999", "[US_SSN]"),
        ("ssn: 123456789", "ssn: [US_SSN]"),
        ("social security number 219099999", "social security number [US_SSN]"),
        ("ITIN 912-70-1234", "ITIN [US_ITIN]"),
        ("900-88-1234", "[US_ITIN]"),
    ]);
    untouched(&[
        "000-12-3456",
        "666-12-3456",
        "123-00-4567",
        "123-45-0000",
        "912-40-1234",
        "order 123456789",
        "123-45-67890",
        "2024-01-15",
        "12-345-6789",
    ]);
}

#[test]
fn emails() {
    check(&[
        ("mail jane.doe@example.com.", "mail [EMAIL]."),
        ("<j.o'neil@x.io>", "<j.o'[EMAIL]>"),
        ("a+tag@sub.example.co.uk, b_c@exa-mple.org", "[EMAIL], [EMAIL]"),
        ("\"user\":\"x@y.de\"", "\"user\":\"[EMAIL]\""),
        ("git@github.com:org/repo", "[EMAIL]:org/repo"),
    ]);
    untouched(&[
        "@mention and @user",
        "user@localhost",
        "logo@2x.png",
        "a@b.c",
        "x@-bad.com",
        "email me @ example.com",
    ]);
}

#[test]
fn phones() {
    check(&[
        ("+1 415 555 0123", "[PHONE]"),
        ("+1 (415) 555-0123", "[PHONE]"),
        ("+44 20 7946 0958", "[PHONE]"),
        ("+44 (0)20 7946 0958", "[PHONE]"),
        ("+49 30 12345678", "[PHONE]"),
        ("+33 1 23 45 67 89", "[PHONE]"),
        ("+14155550123", "[PHONE]"),
        ("phone: (415) 555-0123", "phone: [PHONE]"),
        ("Tel. 020 7946 0958", "Tel. [PHONE]"),
        ("call me on 415.555.0123", "call me on [PHONE]"),
        ("mobile 06 12345678", "mobile [PHONE]"),
        ("Telefon: 030 12345678", "Telefon: [PHONE]"),
        ("cell 555-0123 please", "cell [PHONE] please"),
        ("Tel: 0612345678", "Tel: [PHONE]"),
        ("reach me at 0612345678", "reach me at [PHONE]"),
        // One group of digits needs its label right before it: "call" here
        // belongs to the number before.
        ("called from +1 415 555 0123 about order 12345678", "called from [PHONE] about order 12345678"),
        ("called from 020 7946 0958 about 0612345678", "called from [PHONE] about 0612345678"),
    ]);
    untouched(&[
        "order 415 555 0123",
        "(415) 555-0123",
        "version 2.3.4",
        "C+1 2 3",
        "+1 2",
        "+12345",
        "call on 2024-01-15",
        "2 + 2 = 4",
        "phone 12345",
    ]);
}

#[test]
fn ip_and_mac_addresses() {
    check(&[
        ("host 192.168.1.10:8080", "host [IPV4]:8080"),
        ("10.0.0.255/24 and 8.8.8.8.", "[IPV4]/24 and [IPV4]."),
        ("v6 2001:db8::8a2e:370:7334", "v6 [IPV6]"),
        ("[2001:db8::1]:443", "[[IPV6]]:443"),
        ("fe80::1ff:fe23:4567:890a", "[IPV6]"),
        ("loopback ::1 and ::ffff:192.0.2.1", "loopback [IPV6] and [IPV6]"),
        ("mac 00:1A:2B:3C:4D:5E", "mac [MAC_ADDRESS]"),
        ("00-1a-2b-3c-4d-5e 001a.2b3c.4d5e", "[MAC_ADDRESS] [MAC_ADDRESS]"),
    ]);
    untouched(&[
        "256.1.1.1",
        "1.2.3",
        "01.02.03.04",
        "1.2.3.4.5",
        "at 10:30:00",
        "std::vector and a::b",
        "cafe:babe",
        "00:1A:2B:3C:4D",
        "00:1A:2B:3C:4D:5E:6F",
        "::",
    ]);
}

#[test]
fn crypto_addresses() {
    check(&[
        ("btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "btc [BTC_ADDRESS]"),
        ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "[BTC_ADDRESS]"),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "[BTC_ADDRESS]"),
        ("BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", "[BTC_ADDRESS]"),
        ("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", "[BTC_ADDRESS]"),
        ("eth 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "eth [ETH_ADDRESS]"),
        ("0x52908400098527886e0f7030069857d2e4169ee7", "[ETH_ADDRESS]"),
    ]);
    untouched(&[
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",
        "1990 and 3000 and 12345",
    ]);
}

#[test]
fn national_ids() {
    check(&[
        ("routing number 021000021", "routing number [ABA_ROUTING]"),
        ("ABA: 011000015", "ABA: [ABA_ROUTING]"),
        ("NHS number 943 476 5919", "NHS number [UK_NHS]"),
        ("nhs_no=9434765919", "nhs_no=[UK_NHS]"),
        ("SIN 046 454 286", "SIN [CA_SIN]"),
        ("social insurance number: 046-454-286", "social insurance number: [CA_SIN]"),
        ("Aadhaar 2341 2341 2346", "Aadhaar [IN_AADHAAR]"),
        ("DNI 12345678Z", "DNI [ES_NIF]"),
        ("NIF 87654321-X", "NIF [ES_NIF]"),
        ("NIE X1234567L, Y1234567X, Z7654321H", "NIE [ES_NIE], [ES_NIE], [ES_NIE]"),
        ("BSN 111222333", "BSN [NL_BSN]"),
        ("PESEL: 44051401359", "PESEL: [PL_PESEL]"),
    ]);
    untouched(&[
        "021000021",
        "routing number 021000022",
        "943 476 5919",
        "NHS number 943 476 5918",
        "046 454 286",
        "using 046 454 286",
        "Aadhaar 2341 2341 2347",
        "2341 2341 2346",
        "12345678A",
        "X1234567A",
        "BSN 111222334",
        "111222333",
        "PESEL 44051401358",
        "44051401359",
    ]);
}

fn ghp() -> String {
    format!("ghp_{}", "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5")
}

#[test]
fn vendor_secrets() {
    let ghp = ghp();
    let google = format!("AIza{}", "SyD4f8Gh2Jk6Lm0Np4Qr8St2Vw6Xy0Za4Bc");
    let gh_pat =
        format!("github_pat_11ABCDEFG0{}", "123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456");
    let cases = [
        (
            "aws AKIAZ7Q2L4M6N8P0R2T4 and ASIAZ7Q2L4M6N8P0R2T5".to_owned(),
            "aws [AWS_ACCESS_KEY] and [AWS_ACCESS_KEY]".to_owned(),
        ),
        (format!("token {ghp}"), "token [GITHUB_TOKEN]".to_owned()),
        (gh_pat.clone(), "[GITHUB_TOKEN]".to_owned()),
        ("glpat-9aZ4kQ2mX7pL1vB8nR3s".to_owned(), "[GITLAB_TOKEN]".to_owned()),
        ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx".to_owned(), "[SLACK_TOKEN]".to_owned()),
        (
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc rk_test_4eC39HqLyjWDarjtT1zdp7dc".to_owned(),
            "[STRIPE_KEY] [STRIPE_KEY]".to_owned(),
        ),
        ("sk-proj-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df".to_owned(), "[OPENAI_KEY]".to_owned()),
        (
            "OPENAI_API_KEY=sk-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1DfT3BlbkFJ".to_owned(),
            "OPENAI_API_KEY=[OPENAI_KEY]".to_owned(),
        ),
        ("sk-ant-api03-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df-xyzAA".to_owned(), "[ANTHROPIC_KEY]".to_owned()),
        (format!("key={google}&q=1"), "key=[GOOGLE_API_KEY]&q=1".to_owned()),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    check(&cases);
    untouched(&[
        "AKIAIOSFODNN7EXAMPLE",
        "AKIAZ7Q2L4M6N8P0R2T",
        "AKIAZ7Q2L4M6N8P0R2T4X",
        "ghp_short",
        "glpat-xxxxxxxxxxxxxxxxxxxx",
        "sk-learn and sk-this-is-not-a-real-key-at-all",
        "sk_live_short",
        "xoxb-not-a-token-here",
        "AIzaShort",
    ]);
}

const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4Rk2\nQp9+/ab==\n-----END RSA PRIVATE KEY-----";

#[test]
fn private_keys_and_jwts() {
    let jwt =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    let in_text = format!("key:\n{PEM}\nafter");
    let truncated = "x -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC";
    let openssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
    let cases = [
        (in_text.as_str(), "key:\n[PRIVATE_KEY]\nafter"),
        (truncated, "x [PRIVATE_KEY]"),
        (openssh, "[PRIVATE_KEY]"),
        (&*format!("Bearer {jwt}."), "Bearer [JWT]."),
    ];
    check(&cases);
    untouched(&[
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "eyJub3RqdXN0.eyJzdWIiOiIx.c2ln",
        "eyJhbGciOiJIUzI1NiJ9",
        "-----",
    ]);
}

#[test]
fn pem_without_end_is_masked_up_to_the_bound() {
    let body = "A".repeat(portcullis_masking::MAX_PRIVATE_KEY_BYTES * 2);
    let text = format!("-----BEGIN EC PRIVATE KEY-----\n{body}");
    let out = Masker::new().mask(&text).text;
    let kept = text.len() - portcullis_masking::MAX_PRIVATE_KEY_BYTES;
    assert_eq!(out, format!("[PRIVATE_KEY]{}", "A".repeat(kept)));
}

#[test]
fn generic_secrets() {
    check(&[
        ("password = \"S3cr3t!Pa55\"", "password = \"[GENERIC_SECRET]\""),
        ("DB_PASSWORD=hunter2x", "DB_PASSWORD=[GENERIC_SECRET]"),
        ("\"client_secret\": \"8f14e45fceea167a5a36dedd4bea2543\",", "\"client_secret\": \"[GENERIC_SECRET]\","),
        ("api_key: a8f5f167f44f4964e6c998dee827110c", "api_key: [GENERIC_SECRET]"),
        ("Authorization: Bearer abcDEF123ghiJKL456mno", "Authorization: Bearer [GENERIC_SECRET]"),
        ("\"authorization\": \"Basic dXNlcjpwYXNzd29yZDEyMw==\"", "\"authorization\": \"Basic [GENERIC_SECRET]\""),
        ("export AUTH_TOKEN='q8Z!rT2#vL9@xW4$'", "export AUTH_TOKEN='[GENERIC_SECRET]'"),
        ("secret_key => \"Zx81Lq0Pw3Rt6Yu9\"", "secret_key => \"[GENERIC_SECRET]\""),
    ]);
    untouched(&[
        "password: changeme",
        "api_key = \"<your-api-key>\"",
        "token=${TOKEN}",
        "password = os.environ.get",
        "max_tokens: 1024",
        "password_min_length = 12",
        "secret_name: prod-database",
        "token_type: bearer",
        "password == other",
        "password: aaaaaaaa",
        "api_key: YOUR_API_KEY_HERE",
        "password=get_password()",
        "Note: the password is short",
        "token: abc",
    ]);
}

#[test]
fn hard_negatives() {
    untouched(&[
        "uuid 550e8400-e29b-41d4-a716-446655440000",
        "sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "md5 d41d8cd98f00b204e9800998ecf8427e",
        "Order #123456789 shipped, invoice 2024-000123, SKU 4006381333931",
        "at 2024-01-15T10:30:00Z and 2024-01-15 10:30:00.123",
        "15/01/2024, 01.02.2024, 12:45",
        "total $1,234.56 or 1.234,56 EUR; pi 3.14159265358979",
        "release v1.2.3 (build 20240115)",
        "commit 3f2a9c1b and the hash 0x1f",
        "port 8080, pid 12345, 99.9% uptime",
        "ISBN 978-3-16-148410-0",
        "call stack: main() -> run()",
        "",
        "plain prose with no entities at all.",
        "émoji ✓ and ünïcödé text 你好",
    ]);
}

#[test]
fn overlaps_resolve_to_one_entity() {
    check(&[
        // The key's value is an OpenAI key and a generic secret: the specific kind wins.
        ("api_key=sk-proj-Ab3De5Gh7Jk9Mn1Pq3St5Vw7Yz9Bc1Df", "api_key=[OPENAI_KEY]"),
        // An e-mail wins over the shorter things inside it.
        ("4111111111111111@example.com", "[EMAIL]"),
        // E.164 phone wins over the national reading of its tail.
        ("phone +1 415 555 0123", "phone [PHONE]"),
    ]);
}

#[test]
fn counts_never_carry_values() {
    let masked = Masker::new().mask("a@b.io c@d.io 4111111111111111");
    assert_eq!(masked.counts.len(), 2);
    assert_eq!(masked.counts["email"], 2);
    assert_eq!(masked.counts["credit_card"], 1);
}

#[test]
fn adversarial_inputs_stay_fast() {
    let m = Masker::new();
    let inputs = [
        "eyJ-".repeat(50_000),
        "-----BEGIN RSA PRIVATE KEY-----\n".repeat(2_000),
        "a@".repeat(50_000),
        "password=".repeat(20_000),
        "1 ".repeat(100_000),
        "4111 ".repeat(40_000),
        "::".repeat(50_000),
        "AKIA".repeat(50_000),
    ];
    for input in &inputs {
        let started = std::time::Instant::now();
        let _ = m.mask(input);
        // Generous bound for debug builds on a busy machine.
        assert!(started.elapsed().as_secs() < 10, "{:?}… took {:?}", &input[..20], started.elapsed());
    }
}
