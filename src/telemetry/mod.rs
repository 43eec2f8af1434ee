//! What operators watch: Prometheus metrics ([`Metrics`]) and the process's logs ([`logs`]).
//!
//! Kept apart from the protocol: `oidc` never records a metric; the HTTP layer and the metered adapters
//! ([`crate::directory::Metered`], [`crate::store::Metered`]) do.

pub mod logs;
mod prometheus;

pub use prometheus::Metrics;
