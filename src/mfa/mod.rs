//! Second factors: a TOTP app, a passkey (WebAuthn) or a recovery code after the password, for the people and apps that need them.
//!
//! The decisions are pure and tested here ([`policy`]: who must use two factors, what comes after the password,
//! what `amr`/`acr` a session earns); the factors themselves are one record per account ([`factors`]), sealed
//! with AES-256-GCM under a key kept in `keys/` ([`seal`]) before it reaches the store. [`flow`] ties them to the
//! store, the throttle and the audit trail.

pub mod cli;
pub mod factors;
pub mod flow;
pub mod passkey;
pub mod passkey_factor;
pub mod passkey_flow;
pub mod policy;
pub mod seal;
pub mod totp;

pub use factors::Factors;
pub use policy::MfaPolicy;
pub use seal::Sealer;

/// The REFEDS profiles used as `acr` (OIDC) and `AuthnContextClassRef` (SAML) when two factors were used…
pub const ACR_MFA: &str = "https://refeds.org/profile/mfa";
/// …and when the password alone was.
pub const ACR_SFA: &str = "https://refeds.org/profile/sfa";

/// The demo account enrolled with an authenticator app by the embedded defaults…
pub const DEMO_TOTP_ACCOUNT: &str = "anhvn@danang.gov.vn";
/// …and its TOTP secret (base32; also in the README). Only with the embedded demo directory.
pub const DEMO_TOTP_SECRET: &str = "DANANGSSODEMOTOTPANHVN2345674ABC";

/// Everything the second-factor code needs at run time.
pub struct Mfa {
    pub policy: MfaPolicy,
    pub sealer: Sealer,
    /// The name authenticator apps show next to the code (`issuer` in the `otpauth://` URI).
    pub issuer_label: String,
}
