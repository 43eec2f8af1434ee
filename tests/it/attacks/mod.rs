//! The attack suite: each hole a security review found, tried as an attacker would, one file per theme. Every
//! refusal asserts its exact status and error, never just "an error" (which a 500 would satisfy too).

mod admin_token;
mod client_ip;
mod ldap_timing;
mod metrics;
mod throttle;
