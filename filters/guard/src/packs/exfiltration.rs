//! `secret_exfiltration`: getting credentials printed, or sent somewhere.
//!
//! | Detector | Matches |
//! | --- | --- |
//! | `ask_for_secrets` | a display or transfer verb (print, show, output, dump, list, echo, display, reveal, send, give, tell, leak, exfiltrate, upload, post, email, paste, share, expose) followed by "(all) (the/your/my) environment variables / env vars / API keys / secret keys / access tokens / credentials / passwords / private keys / SSH keys / kubeconfig / .env file" |
//! | `read_secret_file` | `cat`, `less`, `head`, `tail`, `base64`, `xxd`, `strings`, `scp`, `cp`, `tar`… on `~/.ssh/…`, `~/.aws/credentials`, `~/.kube/config`, `~/.docker/config.json`, `.git-credentials`, `.netrc`, `.npmrc`, `.pypirc`, `.pgpass`, `.env`, `.env.*`, shell histories, `/etc/passwd`, `/etc/shadow`, `/etc/sudoers`, `/proc/*/environ` |
//! | `env_dump` | `printenv`, `env` on its own or piped/redirected, `cat /proc/self/environ`, `export -p` |
//! | `network_exfil` | `curl`/`wget`/`nc`/`http`/`Invoke-WebRequest` sending a secret file (`-d @~/.ssh/id_rsa`, `--upload-file .env`, `--post-file`), a secret variable in the body or query string (`-d "k=$API_KEY"`, `?token=$GITHUB_TOKEN`), `$(env)`/`$(cat …)`; a secret source piped into a network tool (`env | curl …`, `cat .env | base64 | nc …`); `nc host < /etc/passwd` |
//!
//! **Precision.** Commands (`read_secret_file`, `env_dump`, `network_exfil`) must be in
//! *command position*; the natural-language requests (`ask_for_secrets`) are read in *direct*
//! mode (see [`crate::context`]). "How do I store API keys securely?", "Add `.env` to your
//! `.gitignore`", "What is /etc/passwd for?" and "Where do I get an API key?" do not match.
//! A secret variable in a *header* (`curl -H "Authorization: Bearer $OPENAI_API_KEY" …`) is how
//! every API is called and does not match; in a body or query string it does, including
//! legitimate OAuth token exchanges (`-d client_secret=$CLIENT_SECRET`): exempt such callers
//! with `except_for`. "Show me the API keys page" matches (a determiner and a secret noun
//! follow the verb): the pack favours catching requests an agent with tools could act on.

use super::Spec;
use crate::context::Context;

macro_rules! secret_files {
    () => {
        r#"(?:(?:(?:~|\$home|\$\{home\}|/root|/home/[\w.-]+|/users/[\w.-]+)/)?(?:\.ssh(?:/[\w.-]*)?|\.aws/(?:credentials|config)|\.config/gcloud\b[\w./-]*|\.kube/config|\.docker/config\.json|\.git-credentials|\.netrc|\.npmrc|\.pypirc|\.pgpass|\.bash_history|\.zsh_history|(?:\./|[\w./-]*/)?\.env(?:\.[\w-]+)?)\b|/etc/(?:passwd|shadow|gshadow|sudoers)\b|/proc/(?:self|\d+|\$\$)/environ\b|\bid_(?:rsa|ed25519|ecdsa|dsa)\b)"#
    };
}

macro_rules! secret_var {
    () => {
        r"\$\{?(?:[a-z0-9_]*_)?(?:api_?key|key|token|secret|password|passwd|credentials?|pat)(?:_[a-z0-9_]*)?\}?\b"
    };
}

pub(super) const SPECS: &[Spec] = &[
    Spec {
        name: "ask_for_secrets",
        pattern: concat!(
            r"\b(?:print|show|output|dump|list|echo|display|reveal|send|give|tell|leak|exfiltrate|upload|post|email|paste|share|expose)\s+",
            r"(?:me\s+|us\s+)?(?:all\s+(?:of\s+)?|every\s+|any\s+)?(?:the\s+|your\s+|my\s+|our\s+|its\s+|their\s+|these\s+)?",
            r"(?:(?:current|stored|saved|configured|available|server's|system's|production|prod|internal)\s+)?",
            r"(?:environment\s+variables|env\s+vars?|(?:api|secret|access|private|ssh|aws|gcp|azure|openai|anthropic|stripe|github|database|db)[\s_-]?(?:keys?|tokens?|credentials|secrets|passwords?)",
            r"|secrets|credentials|passwords|access\s+tokens|auth(?:entication)?\s+tokens|bearer\s+tokens|private\s+keys|ssh\s+keys|kubeconfig",
            r"|\.env\s+file|contents?\s+of\s+(?:the\s+)?(?:\.env|~/\.ssh|/etc/passwd|/etc/shadow))\b"
        ),
        context: Context::Direct,
        check: None,
        exact_case: false,
    },
    Spec {
        name: "read_secret_file",
        pattern: concat!(
            r#"\b(?:cat|less|more|head|tail|bat|strings|xxd|od|base64|nl|tac|type|scp|rsync|cp|tar\s+-?\w+|zip\s+\S+|gpg\s+-\w+|grep\s+\S+)\s+(?:-\S+\s+)*["']?"#,
            secret_files!()
        ),
        context: Context::Command,
        check: None,
        exact_case: false,
    },
    Spec {
        name: "env_dump",
        pattern: r"\bprintenv\b|\benv[ \t]*(?:$|[|>)])|\bexport\s+-p\b|\b(?:cat|strings|xxd)\s+/proc/(?:self|\d+|\$\$)/environ\b",
        context: Context::Command,
        check: None,
        exact_case: false,
    },
    Spec {
        name: "network_exfil",
        pattern: concat!(
            r#"\b(?:curl|wget|nc|ncat|netcat|http|https|invoke-webrequest|iwr|invoke-restmethod|irm)\b[^\n]{0,200}?(?:"#,
            r#"(?:-d|--data(?:-binary|-raw|-urlencode|-ascii)?|-f|--form|-t|--upload-file|--post-file|--body-file|-infile)[= ]\s*["']?(?:\w+=)?@?"#, secret_files!(),
            r#"|(?:-d|--data(?:-binary|-raw|-urlencode|-ascii)?|-f|--form|--post-data)[= ]\s*["']?[^\s"']*"#, secret_var!(),
            r"|[?&][\w-]+=", secret_var!(),
            r"|\$\((?:env|printenv|cat\s+[^)]*)\))",
            r"|(?:\benv\b|\bprintenv\b|\bcat\s+[^\n|]*?(?:\.env\b|\.ssh/|\.aws/credentials|/etc/passwd|/etc/shadow))\s*\|\s*(?:(?:base64|gzip|xxd)\s*\|\s*)?(?:curl|wget|nc|ncat|netcat)\b",
            r"|\b(?:nc|ncat|netcat)\s+[^\n<]*<\s*", secret_files!()
        ),
        context: Context::Command,
        check: None,
        exact_case: false,
    },
];
