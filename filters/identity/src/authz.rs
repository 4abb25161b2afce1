//! Targets (where a request goes) and access rules (whether this caller may go there).

use portcullis_policy::identity::{AccessRule, Effect, Target};

use crate::error::Denied;
use crate::identity::Identity;
use crate::jwt::value_matches_text;

/// The target serving `authority` + `path` + `method`: hosts match exactly (case-insensitive,
/// port ignored) or by `*.` suffix, the path prefix on whole segments, and the method when
/// the target lists methods. Among several matches the longest path prefix wins, then the
/// first declared.
pub fn match_target<'t>(targets: &'t [Target], authority: &str, path: &str, method: &str) -> Option<&'t Target> {
    let host = strip_port(authority);
    let path = strip_query(path);
    let mut best: Option<&Target> = None;
    for target in targets {
        let matches = target.hosts.iter().any(|pattern| host_matches(pattern, host))
            && path_has_prefix(path, &target.path_prefix)
            && (target.methods.is_empty() || target.methods.iter().any(|m| m.eq_ignore_ascii_case(method)));
        if matches && best.is_none_or(|b| target.path_prefix.len() > b.path_prefix.len()) {
            best = Some(target);
        }
    }
    best
}

/// Decides whether `identity` may send `method path` (naming `model`, if known) to `target`.
/// The first matching rule decides; when none matches the request is denied. API keys limited
/// to some targets are denied any other before rules are consulted.
pub fn authorize<'r>(
    rules: &'r [AccessRule],
    identity: &Identity,
    target: Option<&Target>,
    method: &str,
    path: &str,
    model: Option<&str>,
) -> Result<&'r str, Denied> {
    let target_name = target.map(|t| t.name.as_str());
    if !identity.targets.is_empty() && !target_name.is_some_and(|name| identity.targets.iter().any(|t| t == name)) {
        return Err(Denied {
            rule: None,
            reason: format!("the credential of `{}` is not allowed to reach target `{}`", identity.subject, target_name.unwrap_or("(none)")),
        });
    }
    let path = strip_query(path);
    for rule in rules {
        if rule_matches(rule, identity, target_name, method, path, model) {
            return match rule.effect {
                Effect::Allow => Ok(rule.name.as_str()),
                Effect::Deny => Err(Denied { rule: Some(rule.name.clone()), reason: format!("access denied by rule `{}`", rule.name) }),
            };
        }
    }
    Err(Denied {
        rule: None,
        reason: format!(
            "no access rule allows `{}` to {method} {path} on target `{}`{}",
            identity.subject,
            target_name.unwrap_or("(none)"),
            model.map(|m| format!(" with model `{m}`")).unwrap_or_default()
        ),
    })
}

fn rule_matches(rule: &AccessRule, identity: &Identity, target: Option<&str>, method: &str, path: &str, model: Option<&str>) -> bool {
    (rule.subjects.is_empty() || rule.subjects.iter().any(|pattern| glob_matches(pattern, &identity.subject)))
        && (rule.groups.is_empty() || rule.groups.iter().any(|group| identity.groups.contains(group)))
        && rule.claims.iter().all(|(name, wanted)| identity.claims.get(name).is_some_and(|value| value_matches_text(value, wanted)))
        && (rule.targets.is_empty() || target.is_some_and(|target| rule.targets.iter().any(|t| t == target)))
        && (rule.models.is_empty() || model.is_some_and(|model| rule.models.iter().any(|pattern| glob_matches(pattern, model))))
        && (rule.methods.is_empty() || rule.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
        && (rule.paths.is_empty() || rule.paths.iter().any(|prefix| path_has_prefix(path, prefix)))
}

/// `*` matches any run of characters (including none), `?` exactly one; everything else
/// matches itself. Linear time with one backtrack point.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// Whether `path` starts with `prefix` on a segment boundary (`/v1` matches `/v1` and
/// `/v1/chat`, not `/v10`). A prefix ending in `/` matches as plain text.
pub fn path_has_prefix(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            host.len() > suffix.len() + 1
                && host.get(host.len() - suffix.len()..).is_some_and(|end| end.eq_ignore_ascii_case(suffix))
                && host.as_bytes().get(host.len() - suffix.len() - 1) == Some(&b'.')
        }
        None => pattern.eq_ignore_ascii_case(host),
    }
}

fn strip_port(authority: &str) -> &str {
    if authority.starts_with('[') {
        // IPv6 literal: keep the brackets, drop any port after them.
        return authority.find(']').and_then(|end| authority.get(..=end)).unwrap_or(authority);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

fn strip_query(path: &str) -> &str {
    path.split(['?', '#']).next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (pattern, text, expected) in [
            ("*", "", true),
            ("*", "anything", true),
            ("gpt-4o*", "gpt-4o-mini", true),
            ("gpt-4o*", "gpt-4", false),
            ("gpt-?", "gpt-4", true),
            ("gpt-?", "gpt-45", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("svc-*", "svc-", true),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("**a", "bba", true),
        ] {
            assert_eq!(glob_matches(pattern, text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn path_prefixes_respect_segments() {
        assert!(path_has_prefix("/v1/chat", "/v1"));
        assert!(path_has_prefix("/v1", "/v1"));
        assert!(!path_has_prefix("/v10", "/v1"));
        assert!(path_has_prefix("/anything", "/"));
        assert!(path_has_prefix("/v1/x", "/v1/"));
        assert!(!path_has_prefix("/v", "/v1"));
    }

    #[test]
    fn hosts_and_ports() {
        assert!(host_matches("api.openai.com", "API.openai.com"));
        assert!(host_matches("*.example.com", "a.example.com"));
        assert!(host_matches("*.example.com", "a.b.example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(!host_matches("*.example.com", "badexample.com"));
        assert_eq!(strip_port("h:8080"), "h");
        assert_eq!(strip_port("h"), "h");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_query("/a?b#c"), "/a");
    }
}
