//! A throwaway certificate authority for TLS tests (LDAPS, StartTLS, HTTPS), made with the
//! `openssl` command so the build itself stays free of OpenSSL libraries.

use super::{TempDir, binary, run};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a server certificate needs so rustls and libldap accept it for 127.0.0.1 and localhost.
const LEAF_EXTENSIONS: &str = "subjectAltName = IP:127.0.0.1, DNS:localhost
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
";

/// A self-signed CA and a leaf certificate it signed (P-256 keys, ten years).
/// A self-signed leaf alone is not enough: rustls refuses a CA certificate as a server certificate.
pub struct TestCa {
    /// The CA certificate: what clients trust.
    pub ca_pem: String,
    /// The leaf (server) certificate, SAN `127.0.0.1` and `localhost`.
    pub cert_pem: String,
    /// The leaf's private key, PKCS#8 PEM.
    pub key_pem: String,
    /// Holds `ca.pem`, `cert.pem` and `key.pem`; removed when the `TestCa` is dropped.
    pub dir: PathBuf,
    _files: TempDir,
}

impl TestCa {
    pub fn new() -> TestCa {
        let files = TempDir::new("ca");
        let dir = files.path();
        openssl(
            dir,
            "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
             -subj /CN=danang-sso-test-ca -keyout ca.key -out ca.pem \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
        );
        openssl(
            dir,
            "req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
             -subj /CN=localhost -keyout key.pem -out leaf.csr",
        );
        fs::write(dir.join("leaf.ext"), LEAF_EXTENSIONS).expect("write certificate extensions");
        openssl(
            dir,
            "x509 -req -in leaf.csr -days 3650 -CA ca.pem -CAkey ca.key -CAcreateserial \
             -extfile leaf.ext -out cert.pem",
        );
        let read = |name: &str| fs::read_to_string(dir.join(name)).expect("read a generated PEM file");
        let (ca_pem, cert_pem, key_pem) = (read("ca.pem"), read("cert.pem"), read("key.pem"));
        TestCa { ca_pem, cert_pem, key_pem, dir: dir.to_path_buf(), _files: files }
    }
}

/// Runs `openssl` in `dir` with whitespace-separated `args`.
fn openssl(dir: &Path, args: &str) {
    run(Command::new(binary("openssl")).current_dir(dir).args(args.split_whitespace()));
}
