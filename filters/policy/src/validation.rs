//! Validation reports: every problem found, errors kept apart from warnings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One problem found in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Dotted path of the offending field, such as `targets[2].host`.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Everything validation found: errors block a policy, warnings do not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Problems that make the policy unusable.
    pub errors: Vec<Problem>,
    /// Problems worth fixing that do not block the policy.
    pub warnings: Vec<Problem>,
}

impl ValidationReport {
    /// Records an error at `path`.
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(Problem { path: path.into(), message: message.into() });
    }

    /// Records a warning at `path`.
    pub fn warning(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Problem { path: path.into(), message: message.into() });
    }

    /// `Ok(self)` when there are no errors, `Err(self)` otherwise.
    pub fn into_result(self) -> Result<Self, Self> {
        if self.errors.is_empty() {
            Ok(self)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.errors {
            writeln!(f, "error: {problem}")?;
        }
        for problem in &self.warnings {
            writeln!(f, "warning: {problem}")?;
        }
        Ok(())
    }
}
