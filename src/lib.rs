//! danang-sso as a library (placeholder until the lead writes the real one).
pub mod directory;
