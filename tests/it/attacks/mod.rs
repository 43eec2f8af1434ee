//! The attack suite: each hole a security review found, and the classic attacks on an OpenID provider, tried as
//! an attacker would, one file per theme. Every refusal asserts its exact status and error code, never just
//! "an error" (which a 500 would satisfy too).

mod admin_token;
mod client_ip;
mod code;
mod cookies;
mod csrf;
mod injection;
mod jwt;
mod ldap_timing;
mod limits;
mod metrics;
mod redirects;
mod refresh;
mod saml;
mod support;
mod throttle;
