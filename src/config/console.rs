//! `[console]`: the IT centre's console at `/quan-tri` — whether it is served and who may open it.

use serde::{Deserialize, Serialize};

/// `[console]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Serve `/quan-tri` on the main listener.
    pub enabled: bool,
    /// Directory groups (their `cn`, as in the `groups` claim) whose members may open the console.
    pub groups: Vec<String>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self { enabled: true, groups: vec!["quan-tri".into()] }
    }
}

impl super::DirectoryConfig {
    /// Whether this is the demo directory built into the binary (no real directory configured at all).
    pub fn is_embedded_demo(&self) -> bool {
        self.kind == super::DirectoryKind::Ldif && self.ldif_path.is_none()
    }
}
