//! The one integration-test binary: every test module is declared here, so all share one build
//! and one harness of real servers.

mod harness;
mod harness_selftest;
