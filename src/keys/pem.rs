//! PEM armour for PKCS#8 private keys: a few lines instead of another crate.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const END: &str = "-----END PRIVATE KEY-----";

/// The DER bytes of the first `PRIVATE KEY` block.
pub fn decode_private_key(text: &str) -> Option<Vec<u8>> {
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = start + text[start..].find(END)?;
    let b64: String = text[start..end].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64).ok()
}

/// Writes `der` as PEM, readable only by the owner.
pub fn write_private_key(path: &Path, der: &[u8]) -> std::io::Result<()> {
    let b64 = STANDARD.encode(der);
    let mut text = String::with_capacity(b64.len() + 80);
    text.push_str(BEGIN);
    text.push('\n');
    for line in b64.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).unwrap_or_default());
        text.push('\n');
    }
    text.push_str(END);
    text.push('\n');
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}
