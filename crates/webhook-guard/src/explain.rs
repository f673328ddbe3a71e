//! `Verifier::explain`: why a delivery fails, in words, without printing a secret.

use std::fmt;

/// A step-by-step account of a verification, for people (the CLI's `verify --explain`).
///
/// Lines name headers, counts, key numbers (`secret #2`), clock skew and layouts; never a secret,
/// an expected MAC or body bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    lines: Vec<String>,
}

impl Explanation {
    /// The lines, in order.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.lines {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}
