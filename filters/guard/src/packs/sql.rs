//! `destructive_sql`: statements that destroy tables, schemas, databases or every row.
//!
//! | Detector | Matches |
//! | --- | --- |
//! | `drop_object` | `DROP [TEMPORARY] TABLE|DATABASE|SCHEMA [IF EXISTS] name` |
//! | `truncate` | `TRUNCATE TABLE name`; `TRUNCATE name` only when the statement ends there (`;` or end of line) |
//! | `delete_without_where` | `DELETE FROM name` whose statement has no `WHERE`, or `WHERE 1=1` / `WHERE true` |
//! | `update_without_where` | `UPDATE name SET col =` whose statement has no `WHERE` (or a trivially true one) |
//! | `alter_drop` | `ALTER TABLE name … DROP …` (column, constraint, partition) |
//!
//! **Precision.** Matches must be in *command position* (see [`crate::context`]): at the start
//! of a line or code line (so SQL in code blocks and tool arguments counts), after `;`, or
//! after "run"/"execute"/"please"... "What does DROP TABLE do?", "Is `DELETE FROM users` without
//! a WHERE dangerous?" and prose that mentions a statement do not match. English that looks
//! like SQL is rejected by the object name: "drop table of contents", "truncate the string",
//! "delete from the list" (a determiner or common noun is not taken as a table name);
//! "drop-down menu" and "delete this paragraph" never look like SQL. `DELETE … WHERE id = 1` is
//! fine. Missed on purpose: statements assembled at run time (`"DROP " + "TABLE"`), SQL in
//! languages other than the ones the regexes spell (keywords are English), and destructive
//! statements outside this list (`DROP INDEX`, `DROP USER`, `REVOKE`) - add rules for those.

use super::{last_word, Spec, NOT_IDENTIFIERS};
use crate::context::Context;

/// A table name, optionally qualified and quoted.
macro_rules! ident {
    () => {
        r#"(?:[A-Za-z_][\w$]*|"[^"\n]{1,128}"|`[^`\n]{1,128}`|\[[^\]\n]{1,128}\])(?:\.(?:[A-Za-z_][\w$]*|"[^"\n]{1,128}"|`[^`\n]{1,128}`|\[[^\]\n]{1,128}\])){0,2}"#
    };
}

pub(super) const SPECS: &[Spec] = &[
    Spec {
        name: "drop_object",
        pattern: concat!(r"\bdrop\s+(?:temporary\s+)?(?:table|database|schema)\s+(?:if\s+exists\s+)?", ident!()),
        context: Context::Command,
        check: Some(named_object),
        exact_case: false,
    },
    Spec {
        name: "truncate",
        pattern: concat!(
            r"\btruncate\s+table\s+(?:only\s+)?", ident!(),
            r"|\btruncate\s+(?:only\s+)?", ident!(), r"(?:\s*,\s*", ident!(), r")*",
            r"(?:\s+(?:cascade|restrict|(?:restart|continue)\s+identity))*[ \t]*(?:;|\r?$)"
        ),
        context: Context::Command,
        check: Some(truncated_object),
        exact_case: false,
    },
    Spec {
        name: "delete_without_where",
        pattern: concat!(r"\bdelete\s+from\s+(?:only\s+)?", ident!()),
        context: Context::Command,
        check: Some(delete_without_where),
        exact_case: false,
    },
    Spec {
        name: "update_without_where",
        pattern: concat!(r"\bupdate\s+(?:only\s+)?", ident!(), r"\s+set\s+", ident!(), r"\s*="),
        context: Context::Command,
        check: Some(update_without_where),
        exact_case: false,
    },
    Spec {
        name: "alter_drop",
        pattern: concat!(r"\balter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?", ident!(), r"\s[^;]{0,200}?\bdrop\b"),
        context: Context::Command,
        check: Some(altered_object),
        exact_case: false,
    },
];

fn is_identifier(word: &str) -> bool {
    !word.is_empty() && !NOT_IDENTIFIERS.contains(&word)
}

fn named_object(text: &str, start: usize, end: usize) -> bool {
    is_identifier(&last_word(text.get(start..end).unwrap_or("")))
}

fn truncated_object(text: &str, start: usize, end: usize) -> bool {
    let matched = text.get(start..end).unwrap_or("").trim_end().trim_end_matches(';');
    let mut words = matched.split_whitespace().skip(1).map(|w| w.trim_matches(',').to_ascii_lowercase());
    let first = words.find(|w| w != "table" && w != "only").unwrap_or_default();
    let name = first.rsplit('.').next().unwrap_or("").trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'));
    is_identifier(name)
}

fn altered_object(text: &str, start: usize, end: usize) -> bool {
    let matched = text.get(start..end).unwrap_or("");
    let name = matched.split_whitespace().map(str::to_ascii_lowercase).find(|w| !matches!(w.as_str(), "alter" | "table" | "if" | "exists" | "only"));
    name.is_some_and(|n| is_identifier(&last_word(&n)))
}

fn delete_without_where(text: &str, start: usize, end: usize) -> bool {
    let head = text.get(start..end).unwrap_or("");
    is_identifier(&last_word(head)) && !has_real_where(statement_rest(text, end))
}

fn update_without_where(text: &str, start: usize, end: usize) -> bool {
    let matched = text.get(start..end).unwrap_or("");
    let table = matched.split_whitespace().nth(1).map(str::to_ascii_lowercase).unwrap_or_default();
    let table = if table == "only" { matched.split_whitespace().nth(2).map(str::to_ascii_lowercase).unwrap_or_default() } else { table };
    is_identifier(&last_word(&table)) && !has_real_where(statement_rest(text, end))
}

/// The rest of the statement after `end`: up to `;`, a blank line, a code fence, the next
/// `DELETE`/`UPDATE` (the next candidate: so the scans of all candidates add up to one pass),
/// or 1 KiB.
fn statement_rest(text: &str, end: usize) -> &str {
    let rest = text.get(end..).unwrap_or("");
    let mut cut = rest.len().min(1024);
    while !rest.is_char_boundary(cut) {
        cut -= 1;
    }
    let rest = rest.get(..cut).unwrap_or("");
    let rest = rest.split(';').next().unwrap_or(rest);
    let next = |word: &str| {
        let (bytes, w) = (rest.as_bytes(), word.as_bytes());
        bytes.windows(w.len()).position(|win| win.eq_ignore_ascii_case(w))
    };
    let stop = [rest.find("\n\n"), rest.find("```"), next("delete"), next("update")].into_iter().flatten().min().unwrap_or(rest.len());
    rest.get(..stop).unwrap_or(rest)
}

/// A `WHERE` that is not trivially true (`WHERE 1=1`, `WHERE true`, `WHERE 'a'='a'`).
fn has_real_where(statement: &str) -> bool {
    let lower = statement.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut from = 0;
    while let Some(pos) = lower.get(from..).and_then(|s| s.find("where")).map(|p| p + from) {
        let before_ok = pos == 0 || !bytes.get(pos - 1).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        let after_ok = !bytes.get(pos + 5).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if before_ok && after_ok {
            let condition: String = lower.get(pos + 5..).unwrap_or("").chars().filter(|c| !c.is_whitespace()).take(12).collect();
            let trivial = ["1=1", "true", "'1'='1'", "'a'='a'", "1", "0=0"]
                .iter()
                .any(|t| condition.strip_prefix(t).is_some_and(|r| r.is_empty() || r.starts_with([')', ';'])));
            return !trivial;
        }
        from = pos + 5;
    }
    false
}
