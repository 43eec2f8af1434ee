//! The one integration-test binary: the service in-process, real slapd and redis-server started by the harness,
//! an independent relying party built on the `openidconnect` crate, and a real SAML service provider (pysaml2).

mod app;
mod browser;
mod flow;
mod flow_errors;
mod hardening;
mod harness;
mod harness_selftest;
mod listener;
mod logout;
mod rp;
mod saml;
mod saml_logout;
mod saml_sp;
mod tokens;
