//! The one integration-test binary: the service in-process, real slapd and redis-server started by the harness,
//! and an independent relying party built on the `openidconnect` crate.

mod app;
mod browser;
mod browser_e2e;
mod flow;
mod flow_errors;
mod harness;
mod harness_selftest;
mod listener;
mod logout;
mod rp;
mod tokens;
