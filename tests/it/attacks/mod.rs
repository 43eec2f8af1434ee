//! The attack suite: each file one theme, each test an attack that once worked (or could) and now must not.

mod saml;
