//! The attack suite: each hole a review found, and the classic attacks on an OpenID provider, tried as an
//! attacker would, one file per theme. Every refusal asserts the exact status and error code.

mod code;
mod cookies;
mod csrf;
mod injection;
mod jwt;
mod limits;
mod redirects;
mod refresh;
mod support;
