//! The built-in entity kinds: names, placeholder labels, priorities and length bounds.

/// A built-in detector's entity kind.
///
/// [`EntityKind::name`] is the key used in policies and in recorded counts;
/// [`EntityKind::label`] is the text inside placeholders such as `[CREDIT_CARD]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum EntityKind {
    /// Payment card number: issuer prefix, length and Luhn check.
    CreditCard,
    /// International bank account number: country length table and mod-97.
    Iban,
    /// US social security number: area, group and serial ranges.
    UsSsn,
    /// US individual taxpayer identification number: `9xx` area, group ranges.
    UsItin,
    /// E-mail address.
    Email,
    /// Phone number: E.164 `+` form, or a national form next to a context word.
    Phone,
    /// IPv4 address with octets in range.
    Ipv4,
    /// IPv6 address (parsed with the standard library).
    Ipv6,
    /// MAC address (`aa:bb:cc:dd:ee:ff`, dashes, or `aabb.ccdd.eeff`).
    MacAddress,
    /// Bitcoin address: Base58Check (double SHA-256) or Bech32/Bech32m.
    BtcAddress,
    /// Ethereum address: `0x` and 40 hex digits, EIP-55 checked when mixed case.
    EthAddress,
    /// ABA routing number: 3-7-1 checksum, next to a context word.
    AbaRouting,
    /// UK NHS number: mod 11, next to a context word.
    UkNhs,
    /// Canadian social insurance number: Luhn, next to a context word.
    CaSin,
    /// Indian Aadhaar number: Verhoeff, next to a context word.
    InAadhaar,
    /// Spanish NIF (DNI): control letter table.
    EsNif,
    /// Spanish NIE: `X`/`Y`/`Z` prefix and control letter table.
    EsNie,
    /// Dutch BSN: 11-proof, next to a context word.
    NlBsn,
    /// Polish PESEL: weighted checksum and a valid birth date, next to a context word.
    PlPesel,
    /// AWS access key id (`AKIA`/`ASIA` and 16 characters).
    AwsAccessKey,
    /// GitHub token (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`).
    GithubToken,
    /// GitLab personal access token (`glpat-`).
    GitlabToken,
    /// Slack token (`xoxb-`, `xoxa-`, `xoxp-`, `xoxr-`, `xoxs-`).
    SlackToken,
    /// Stripe secret or restricted key (`sk_live_`, `sk_test_`, `rk_live_`, `rk_test_`).
    StripeKey,
    /// OpenAI API key (`sk-`, `sk-proj-`, ...).
    OpenaiKey,
    /// Anthropic API key (`sk-ant-`).
    AnthropicKey,
    /// Google API key (`AIza` and 35 characters).
    GoogleApiKey,
    /// PEM private key block, `-----BEGIN ... PRIVATE KEY-----` to `-----END ...-----`.
    PrivateKey,
    /// JSON Web Token whose header decodes to JSON with `alg`.
    Jwt,
    /// Value assigned to a secret-looking key (`password = "..."`), entropy checked.
    GenericSecret,
}

impl EntityKind {
    /// Every built-in kind, in id order.
    pub const ALL: [EntityKind; 30] = [
        EntityKind::CreditCard,
        EntityKind::Iban,
        EntityKind::UsSsn,
        EntityKind::UsItin,
        EntityKind::Email,
        EntityKind::Phone,
        EntityKind::Ipv4,
        EntityKind::Ipv6,
        EntityKind::MacAddress,
        EntityKind::BtcAddress,
        EntityKind::EthAddress,
        EntityKind::AbaRouting,
        EntityKind::UkNhs,
        EntityKind::CaSin,
        EntityKind::InAadhaar,
        EntityKind::EsNif,
        EntityKind::EsNie,
        EntityKind::NlBsn,
        EntityKind::PlPesel,
        EntityKind::AwsAccessKey,
        EntityKind::GithubToken,
        EntityKind::GitlabToken,
        EntityKind::SlackToken,
        EntityKind::StripeKey,
        EntityKind::OpenaiKey,
        EntityKind::AnthropicKey,
        EntityKind::GoogleApiKey,
        EntityKind::PrivateKey,
        EntityKind::Jwt,
        EntityKind::GenericSecret,
    ];

    /// Policy and count key, such as `credit_card`.
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::CreditCard => "credit_card",
            EntityKind::Iban => "iban",
            EntityKind::UsSsn => "us_ssn",
            EntityKind::UsItin => "us_itin",
            EntityKind::Email => "email",
            EntityKind::Phone => "phone",
            EntityKind::Ipv4 => "ipv4",
            EntityKind::Ipv6 => "ipv6",
            EntityKind::MacAddress => "mac_address",
            EntityKind::BtcAddress => "btc_address",
            EntityKind::EthAddress => "eth_address",
            EntityKind::AbaRouting => "aba_routing",
            EntityKind::UkNhs => "uk_nhs",
            EntityKind::CaSin => "ca_sin",
            EntityKind::InAadhaar => "in_aadhaar",
            EntityKind::EsNif => "es_nif",
            EntityKind::EsNie => "es_nie",
            EntityKind::NlBsn => "nl_bsn",
            EntityKind::PlPesel => "pl_pesel",
            EntityKind::AwsAccessKey => "aws_access_key",
            EntityKind::GithubToken => "github_token",
            EntityKind::GitlabToken => "gitlab_token",
            EntityKind::SlackToken => "slack_token",
            EntityKind::StripeKey => "stripe_key",
            EntityKind::OpenaiKey => "openai_key",
            EntityKind::AnthropicKey => "anthropic_key",
            EntityKind::GoogleApiKey => "google_api_key",
            EntityKind::PrivateKey => "private_key",
            EntityKind::Jwt => "jwt",
            EntityKind::GenericSecret => "generic_secret",
        }
    }

    /// Looks a kind up by its [`name`](Self::name).
    pub fn from_name(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.iter().copied().find(|k| k.name() == name)
    }

    /// Placeholder label: the name in upper case, such as `CREDIT_CARD`.
    pub fn label(self) -> String {
        self.name().to_ascii_uppercase()
    }

    /// Dense id, the position in [`ALL`](Self::ALL).
    pub fn id(self) -> u16 {
        self as u16
    }

    /// Whether the entity is a credential (key, token, private key, secret
    /// assignment) rather than personal data.
    pub fn is_secret(self) -> bool {
        matches!(
            self,
            EntityKind::AwsAccessKey
                | EntityKind::GithubToken
                | EntityKind::GitlabToken
                | EntityKind::SlackToken
                | EntityKind::StripeKey
                | EntityKind::OpenaiKey
                | EntityKind::AnthropicKey
                | EntityKind::GoogleApiKey
                | EntityKind::PrivateKey
                | EntityKind::Jwt
                | EntityKind::GenericSecret
        )
    }

    /// Whether the detector validates a checksum or an equally strong
    /// structure (the corpus evaluator holds these to the strict bar).
    pub fn is_checksum_validated(self) -> bool {
        matches!(
            self,
            EntityKind::CreditCard
                | EntityKind::Iban
                | EntityKind::AbaRouting
                | EntityKind::UkNhs
                | EntityKind::CaSin
                | EntityKind::InAadhaar
                | EntityKind::EsNif
                | EntityKind::EsNie
                | EntityKind::NlBsn
                | EntityKind::PlPesel
                | EntityKind::BtcAddress
        )
    }

    /// Overlap tie-break: when two candidates are equally long, the higher wins.
    pub(crate) fn priority(self) -> u8 {
        match self {
            EntityKind::PrivateKey => 100,
            EntityKind::Jwt => 95,
            EntityKind::AwsAccessKey
            | EntityKind::GithubToken
            | EntityKind::GitlabToken
            | EntityKind::SlackToken
            | EntityKind::StripeKey
            | EntityKind::AnthropicKey
            | EntityKind::OpenaiKey
            | EntityKind::GoogleApiKey => 90,
            EntityKind::BtcAddress | EntityKind::EthAddress => 85,
            EntityKind::CreditCard | EntityKind::Iban => 80,
            EntityKind::UsSsn
            | EntityKind::UsItin
            | EntityKind::UkNhs
            | EntityKind::CaSin
            | EntityKind::InAadhaar
            | EntityKind::EsNif
            | EntityKind::EsNie
            | EntityKind::NlBsn
            | EntityKind::PlPesel => 75,
            EntityKind::AbaRouting => 74,
            EntityKind::Email => 70,
            EntityKind::Ipv4 | EntityKind::Ipv6 | EntityKind::MacAddress => 60,
            EntityKind::Phone => 40,
            EntityKind::GenericSecret => 30,
        }
    }
}

/// Priority of custom regexes and deny-list words: they win ties with built-ins.
pub(crate) const CUSTOM_PRIORITY: u8 = 110;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_policy_list() {
        let names: Vec<&str> = EntityKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, portcullis_policy::masking::BUILTIN_ENTITIES);
        for (i, kind) in EntityKind::ALL.iter().enumerate() {
            assert_eq!(usize::from(kind.id()), i);
            assert_eq!(EntityKind::from_name(kind.name()), Some(*kind));
        }
    }
}
