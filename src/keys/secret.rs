//! The server's MAC key: binds values we hand out (refresh secrets, the sign-in form's anti-forgery value) to
//! this deployment, so a value can be recognised as ours without storing it.
//!
//! Kept beside the signing keys as `[keys] dir`/`mac.key` (32 random bytes, base64url, mode 0600), made on first
//! start. Instances sharing the key directory share it, and it survives restarts and key rotation. Each use
//! names its purpose, so a MAC made for one purpose never passes for another.

use std::io::Write;
use std::path::Path;

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

use super::KeyError;

/// The file holding the MAC key inside the key directory (not `*.pem`, so the key ring ignores it).
pub const FILE: &str = "mac.key";

/// An HMAC-SHA256 key; cheap to clone.
#[derive(Clone)]
pub struct ServerSecret {
    key: hmac::Key,
}

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(..)")
    }
}

impl ServerSecret {
    /// Reads `dir/mac.key`, first making it when absent. Two instances starting together agree: the file is
    /// created exclusively, and the loser reads the winner's.
    pub fn load_or_create(dir: &Path) -> Result<ServerSecret, KeyError> {
        let path = dir.join(FILE);
        let bad = |m: String| KeyError::File(path.clone(), m);
        if !path.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(|e| bad(e.to_string()))?;
            let mut bytes = [0u8; 32];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| bad("the system random generator failed".into()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(mut file) => {
                    file.write_all(format!("{}\n", B64.encode(bytes)).as_bytes()).map_err(|e| bad(e.to_string()))?
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(bad(e.to_string())),
            }
        }
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let bytes = B64.decode(text.trim()).map_err(|_| bad("not base64url".into()))?;
        if bytes.len() < 32 {
            return Err(bad("the MAC key must hold at least 32 bytes".into()));
        }
        Ok(ServerSecret::from_bytes(&bytes))
    }

    pub fn from_bytes(bytes: &[u8]) -> ServerSecret {
        ServerSecret { key: hmac::Key::new(hmac::HMAC_SHA256, bytes) }
    }

    fn message(purpose: &str, parts: &[&str]) -> Vec<u8> {
        let mut msg = Vec::with_capacity(64);
        msg.extend_from_slice(purpose.as_bytes());
        for part in parts {
            // Length-prefixed, so ("ab", "c") and ("a", "bc") never share a MAC.
            msg.extend_from_slice(&(part.len() as u64).to_be_bytes());
            msg.extend_from_slice(part.as_bytes());
        }
        msg
    }

    /// The MAC of `parts` for `purpose`, base64url (43 characters).
    pub fn mac(&self, purpose: &str, parts: &[&str]) -> String {
        B64.encode(hmac::sign(&self.key, &Self::message(purpose, parts)).as_ref())
    }

    /// Whether `presented` is the MAC of `parts` for `purpose` (constant time).
    pub fn verify(&self, purpose: &str, parts: &[&str], presented: &str) -> bool {
        let Ok(tag) = B64.decode(presented) else { return false };
        hmac::verify(&self.key, &Self::message(purpose, parts), &tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_bound_to_purpose_parts_and_key() {
        let a = ServerSecret::from_bytes(&[1; 32]);
        let b = ServerSecret::from_bytes(&[2; 32]);
        let mac = a.mac("refresh", &["g1", "3"]);
        assert_eq!(mac.len(), 43);
        assert!(a.verify("refresh", &["g1", "3"], &mac));
        assert!(!a.verify("csrf", &["g1", "3"], &mac));
        assert!(!a.verify("refresh", &["g1", "4"], &mac));
        assert!(!a.verify("refresh", &["g13", ""], &mac));
        assert!(!b.verify("refresh", &["g1", "3"], &mac));
        assert!(!a.verify("refresh", &["g1", "3"], "not base64!"));
    }

    #[test]
    fn the_key_file_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("danang-sso-mac-{}", crate::oidc::random_id()));
        let first = ServerSecret::load_or_create(&dir).unwrap();
        let again = ServerSecret::load_or_create(&dir).unwrap();
        assert_eq!(first.mac("p", &["x"]), again.mac("p", &["x"]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join(FILE), "c2hvcnQ\n").unwrap();
        assert!(matches!(ServerSecret::load_or_create(&dir), Err(KeyError::File(..))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
