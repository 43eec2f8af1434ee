//! Encryption at rest for second factors: AES-256-GCM (aws-lc-rs) under a key file in `[keys] dir`.
//!
//! The key is made on first start like the signing keys (`mfa-secrets.key`, 0600) and shared by instances that
//! share the directory. Each record is bound to its account as associated data, so a record copied to another
//! account's key in the store does not open.

use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

/// The file name of the key in `[keys] dir`.
pub const KEY_FILE: &str = "mfa-secrets.key";

pub struct Sealer {
    key: LessSafeKey,
}

/// A record that does not open: wrong key, another account's record, or damaged.
#[derive(Debug, thiserror::Error)]
#[error("second-factor record does not open (wrong key or damaged)")]
pub struct Unsealable;

impl Sealer {
    /// A sealer from 32 raw key bytes.
    pub fn from_bytes(bytes: &[u8]) -> Option<Sealer> {
        Some(Sealer { key: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).ok()?) })
    }

    /// Reads `dir/mfa-secrets.key` (base64url of 32 bytes), making it first when absent.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Sealer> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            std::fs::create_dir_all(dir)?;
            let mut bytes = [0u8; 32];
            aws_lc_rs::rand::fill(&mut bytes).map_err(|_| std::io::Error::other("no randomness"))?;
            // Written whole under a private name, then linked into place: another instance starting at the same
            // moment sees either no key or a complete one, and the first link wins.
            let tmp = dir.join(format!(".{KEY_FILE}.{}", std::process::id()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(&tmp)?.write_all(format!("{}\n", B64.encode(bytes)).as_bytes())?;
            let linked = std::fs::hard_link(&tmp, &path);
            std::fs::remove_file(&tmp)?;
            match linked {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        let text = std::fs::read_to_string(&path)?;
        let bytes = B64.decode(text.trim()).map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
        Sealer::from_bytes(&bytes)
            .ok_or_else(|| std::io::Error::other(format!("{}: not a 32-byte key", path.display())))
    }

    /// `plain` encrypted for `account`: base64url of nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, account: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the system random generator failed");
        let mut data = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(account.as_bytes()), &mut data)
            .expect("AES-GCM sealing of a small record cannot fail");
        let mut out = nonce.to_vec();
        out.extend(data);
        B64.encode(out)
    }

    /// The plain record sealed for `account`.
    pub fn open(&self, account: &str, sealed: &str) -> Result<Vec<u8>, Unsealable> {
        let bytes = B64.decode(sealed.trim()).map_err(|_| Unsealable)?;
        if bytes.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Unsealable)?;
        let mut data = data.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(account.as_bytes()), &mut data).map_err(|_| Unsealable)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_opens_only_for_its_account_and_key() {
        let s = Sealer::from_bytes(&[7u8; 32]).unwrap();
        let sealed = s.seal("anhvn@danang.gov.vn", b"JBSWY3DPEHPK3PXP");
        assert!(!sealed.contains("JBSWY3DP"));
        assert_eq!(s.open("anhvn@danang.gov.vn", &sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
        assert!(s.open("dungnv@danang.gov.vn", &sealed).is_err());
        assert!(Sealer::from_bytes(&[8u8; 32]).unwrap().open("anhvn@danang.gov.vn", &sealed).is_err());
        assert!(s.open("anhvn@danang.gov.vn", "garbage!").is_err());
    }

    #[test]
    fn the_key_file_is_made_once_and_private() {
        let dir = std::env::temp_dir().join(format!("mfa-seal-{}", std::process::id()));
        let a = Sealer::load_or_create(&dir).unwrap();
        let b = Sealer::load_or_create(&dir).unwrap();
        assert_eq!(b.open("x", &a.seal("x", b"same key")).unwrap(), b"same key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
