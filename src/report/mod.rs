//! What the IT centre and the Department of Information and Communications ask of the sign-in service beyond
//! signing in: the proposed addresses for a unit's list of new staff ([`annex`]), the dormant accounts
//! ([`dormant`]) and how the shared apps are used ([`usage`]).
//!
//! Each report is computed by pure functions from what the directory, the store and the audit trail hold, and
//! rendered as CSV (and the usage report as a printable page). The CLI ([`commands`]) and the admin API
//! produce the same bytes from the same functions.

pub mod annex;
pub mod commands;
pub mod dormant;
pub mod usage;

/// Why a report could not be made; the CLI prints it with its detail, the admin API answers 400 or 503.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The request itself is wrong (a bad date, a missing file, an unreadable CSV).
    #[error("{0}")]
    Invalid(String),
    /// The directory or the store does not answer now.
    #[error("{what} unavailable: {detail}")]
    Unavailable { what: &'static str, detail: String },
}

impl From<crate::directory::Unavailable> for ReportError {
    fn from(e: crate::directory::Unavailable) -> Self {
        ReportError::Unavailable { what: "directory", detail: e.0 }
    }
}

impl From<crate::store::StoreError> for ReportError {
    fn from(e: crate::store::StoreError) -> Self {
        ReportError::Unavailable { what: "store", detail: e.0 }
    }
}

impl From<ReportError> for crate::error::Error {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::Invalid(message) => crate::error::Error::InvalidRequest(message),
            ReportError::Unavailable { what, detail } => {
                tracing::warn!(what, %detail, "report: backend unavailable");
                crate::error::Error::Unavailable(what)
            }
        }
    }
}
