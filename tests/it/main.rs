//! The one integration-test binary: the service in-process, real slapd and redis-server started by the harness,
//! and an independent relying party built on the `openidconnect` crate.

mod app;
mod browser;
mod cityrules;
mod directory_suite;
mod flow;
mod flow_errors;
mod hardening;
mod harness;
mod harness_selftest;
mod ldap;
mod ldap_app;
mod listener;
mod logout;
mod rp;
mod shared_store;
mod store_suite;
mod tokens;
