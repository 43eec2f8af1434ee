//! The one integration-test binary: the service in-process, real slapd and redis-server started by the harness,
//! and an independent relying party built on the `openidconnect` crate.

mod app;
mod browser;
mod check_config;
mod compose;
mod flow;
mod flow_errors;
mod harness;
mod harness_selftest;
mod https;
mod lifecycle;
mod listener;
mod logout;
mod ops;
mod readiness;
mod rp;
mod tokens;
