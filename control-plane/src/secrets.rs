//! Secrets named by `secret_ref`: upstream credentials and `oct` signing keys.
//!
//! A secret called `openai-key` is looked up, in order, in:
//! 1. the file `<--secrets-dir>/openai-key`, its content trimmed of surrounding whitespace;
//! 2. the environment variable `PORTCULLIS_SECRET_OPENAI_KEY` (the name upper-cased, every
//!    character that is not a letter or digit replaced by `_`).
//!
//! Resolved values go into the bundles served to filters and nowhere else: not into the
//! database, not into admin API answers, not into the log. Errors name the secret and
//! where it was looked for, never its value.

use std::io;
use std::path::PathBuf;

use portcullis_policy::identity::SecretValue;

/// Prefix of the environment variables that hold secrets.
pub const ENV_PREFIX: &str = "PORTCULLIS_SECRET_";

/// Longest accepted secret name.
const MAX_NAME_LEN: usize = 128;

/// Why a secret could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The name could address a file outside the secrets directory, or is empty.
    #[error("`{0}` is not a valid secret name: use letters, digits, `.`, `_` and `-`, not starting with `.`")]
    InvalidName(String),
    /// Found nowhere.
    #[error("secret `{name}` was not found: looked in {looked_in}")]
    NotFound {
        /// The secret's name.
        name: String,
        /// Where it was looked for, for the operator.
        looked_in: String,
    },
    /// Found, but empty once trimmed.
    #[error("secret `{name}` is empty (in {place})")]
    Empty {
        /// The secret's name.
        name: String,
        /// The file or variable that held it.
        place: String,
    },
    /// The file exists but could not be read.
    #[error("secret `{name}` could not be read from {}: {source}", path.display())]
    Unreadable {
        /// The secret's name.
        name: String,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
}

/// Where secrets come from: an optional directory, then the environment.
#[derive(Debug, Clone, Default)]
pub struct SecretSource {
    dir: Option<PathBuf>,
}

impl SecretSource {
    /// Reads secrets from `dir` (when set), then from `PORTCULLIS_SECRET_*` variables.
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    /// The value of the secret called `name`.
    pub fn resolve(&self, name: &str) -> Result<SecretValue, SecretError> {
        if !is_valid_name(name) {
            return Err(SecretError::InvalidName(name.to_owned()));
        }
        let mut looked_in = Vec::new();
        if let Some(dir) = &self.dir {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => return non_empty(name, text, || path.display().to_string()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => looked_in.push(path.display().to_string()),
                Err(source) => return Err(SecretError::Unreadable { name: name.to_owned(), path, source }),
            }
        }
        let var = env_var_name(name);
        if let Some(value) = std::env::var_os(&var) {
            return non_empty(name, value.to_string_lossy().into_owned(), || format!("${var}"));
        }
        looked_in.push(format!("${var}"));
        Err(SecretError::NotFound { name: name.to_owned(), looked_in: looked_in.join(" and ") })
    }
}

fn non_empty(name: &str, text: String, place: impl FnOnce() -> String) -> Result<SecretValue, SecretError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(SecretError::Empty { name: name.to_owned(), place: place() });
    }
    Ok(SecretValue::new(trimmed))
}

/// The environment variable that holds the secret `name`: `PORTCULLIS_SECRET_` and the
/// name upper-cased, with every character that is not an ASCII letter or digit as `_`.
pub fn env_var_name(name: &str) -> String {
    let suffix: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("{ENV_PREFIX}{suffix}")
}

/// Whether `name` can name a secret: it must stay inside the secrets directory.
fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_upper_case_with_underscores() {
        assert_eq!(env_var_name("openai-key"), "PORTCULLIS_SECRET_OPENAI_KEY");
        assert_eq!(env_var_name("a.b_c"), "PORTCULLIS_SECRET_A_B_C");
    }

    #[test]
    fn files_are_read_and_trimmed_and_win_over_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cp-secrets-file"), "  from-file\n").unwrap();
        std::env::set_var("PORTCULLIS_SECRET_CP_SECRETS_FILE", "from-env");
        let source = SecretSource::new(Some(dir.path().to_owned()));
        assert_eq!(source.resolve("cp-secrets-file").unwrap().expose(), "from-file");
        std::env::remove_var("PORTCULLIS_SECRET_CP_SECRETS_FILE");
    }

    #[test]
    fn the_environment_is_the_fallback() {
        std::env::set_var("PORTCULLIS_SECRET_CP_SECRETS_ENV_ONLY", "from-env\n");
        let dir = tempfile::tempdir().unwrap();
        let source = SecretSource::new(Some(dir.path().to_owned()));
        assert_eq!(source.resolve("cp-secrets-env-only").unwrap().expose(), "from-env");
    }

    #[test]
    fn missing_empty_and_escaping_names_are_errors_naming_where_we_looked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("blank"), " \n").unwrap();
        let source = SecretSource::new(Some(dir.path().to_owned()));
        let missing = source.resolve("cp-secrets-missing").unwrap_err().to_string();
        assert!(missing.contains("$PORTCULLIS_SECRET_CP_SECRETS_MISSING"), "{missing}");
        assert!(missing.contains(&dir.path().display().to_string()), "{missing}");
        assert!(matches!(source.resolve("blank"), Err(SecretError::Empty { .. })));
        for bad in ["../etc/passwd", "a/b", ".hidden", ""] {
            assert!(matches!(source.resolve(bad), Err(SecretError::InvalidName(_))), "{bad}");
        }
    }
}
