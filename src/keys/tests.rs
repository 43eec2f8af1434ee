//! Keys made, reloaded, used to sign and verified, for every algorithm we offer.

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("danang-sso-keys-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
struct Claims {
    sub: String,
    exp: u64,
    name: String,
}

#[test]
fn every_algorithm_signs_and_verifies_and_survives_a_reload() {
    for alg in [Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let dir = temp_dir(alg.as_str());
        let set = KeySet::load_or_create(&dir, alg).unwrap();
        let claims = Claims { sub: "u-1".into(), exp: now() + 60, name: "Nguyễn Văn Dũng".into() };
        let token = set.sign("JWT", &claims, None).unwrap();
        let back: Claims = set.verify(&token, "JWT", |v| v.validate_aud = false).unwrap();
        assert_eq!(back, claims);

        // A second start reuses the same key: tokens from before verify, and no new file appears.
        let again = KeySet::load_or_create(&dir, alg).unwrap();
        let back: Claims = again.verify(&token, "JWT", |v| v.validate_aud = false).unwrap();
        assert_eq!(back.sub, "u-1");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3, "one key per algorithm");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[cfg(unix)]
#[test]
fn key_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("mode");
    KeySet::load_or_create(&dir, Alg::ES256).unwrap();
    for file in std::fs::read_dir(&dir).unwrap() {
        assert_eq!(std::fs::metadata(file.unwrap().path()).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tampered_or_foreign_tokens_are_refused() {
    let dir = temp_dir("tamper");
    let set = KeySet::load_or_create(&dir, Alg::ES256).unwrap();
    let token = set.sign("JWT", &Claims { sub: "a".into(), exp: now() + 60, name: "x".into() }, None).unwrap();
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = B64.encode(br#"{"sub":"admin","exp":9999999999,"name":"x"}"#);
    parts[1] = &forged;
    assert!(set.verify::<Claims>(&parts.join("."), "JWT", |v| v.validate_aud = false).is_err());
    let expired = set.sign("JWT", &Claims { sub: "a".into(), exp: now() - 120, name: "x".into() }, None).unwrap();
    assert!(set.verify::<Claims>(&expired, "JWT", |v| v.validate_aud = false).is_err());
    // An access token (typ at+jwt) is not accepted where a plain JWT is expected, and the reverse.
    assert!(set.verify::<Claims>(&token, "at+jwt", |v| v.validate_aud = false).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn jwks_publishes_public_parts_only() {
    let dir = temp_dir("jwks");
    let set = KeySet::load_or_create(&dir, Alg::RS256).unwrap();
    let jwks: serde_json::Value = serde_json::from_slice(set.jwks_json()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    let key = keys.iter().find(|k| k["kty"] == "RSA").unwrap();
    assert_eq!(key["use"], "sig");
    assert_eq!(key["alg"], "RS256");
    assert!(key.get("d").is_none() && key.get("p").is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_ring_picks_up_rotated_keys_and_prune_keeps_live_ones() {
    let dir = temp_dir("ring");
    let ring = KeyRing::open(&dir, Alg::ES256).unwrap();
    assert_eq!(ring.current().keys().len(), 3);
    assert!(!ring.reload().unwrap(), "nothing changed");
    let added = rotate(&dir).unwrap();
    assert_eq!(added.len(), 3);
    assert!(ring.reload().unwrap());
    let set = ring.current();
    assert_eq!(set.keys().len(), 6);
    let token = set.sign("JWT", &Claims { sub: "a".into(), exp: now() + 60, name: "x".into() }, None).unwrap();
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    assert!(added.iter().any(|p| set.keys().iter().any(|k| k.kid == kid && &k.path == p)), "the new key signs");
    // Nothing is pruned while tokens of the old keys may still be valid; with no grace, the old keys go.
    assert!(prune(&dir, 3600).unwrap().is_empty());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(prune(&dir, 0).unwrap().len(), 3);
    assert!(ring.reload().unwrap());
    assert_eq!(ring.current().keys().len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
