//! The one integration-test binary: the service in-process, real slapd and redis-server started by the harness,
//! an independent relying party built on the `openidconnect` crate, and a real SAML service provider (pysaml2).

mod app;
mod attacks;
mod browser;
mod browser_e2e;
mod check_config;
mod cityrules;
mod compose;
mod directory_suite;
mod flow;
mod flow_errors;
mod hardening;
mod harness;
mod harness_selftest;
mod https;
mod ldap;
mod ldap_app;
mod lifecycle;
mod listener;
mod logout;
mod ops;
mod readiness;
mod readiness_backends;
mod rp;
mod saml;
mod saml_logout;
mod saml_sp;
mod saml_transient;
mod shared_store;
mod store_suite;
mod tokens;
