//! A real SAML service provider for the tests: pysaml2 (from PyPI, in `target/saml-venv`) checking signatures
//! with Debian's xmlsec1, driven through `tests/saml/sp.py`. Nothing here is ours but the driving.
//! A missing tool fails the test with the command that installs it; nothing is skipped.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use danang_sso::config::saml::ServiceProviderConfig;
use serde_json::Value;

use crate::app::{TestApp, http};
use crate::browser::Page;

const INSTALL: &str = "run `bash .ci/test` (it installs xmlsec1 and pysaml2 into target/saml-venv)";

/// The Python with pysaml2: `DANANG_SSO_SAML_PYTHON`, or the venv `.ci/test` makes.
pub fn python() -> PathBuf {
    let python = std::env::var_os("DANANG_SSO_SAML_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/saml-venv/bin/python"));
    assert!(python.exists(), "no Python with pysaml2 at {}: {INSTALL}", python.display());
    python
}

/// Fails unless `xmlsec1` runs.
pub fn xmlsec1() -> Command {
    let ok = Command::new("xmlsec1").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(ok, "xmlsec1 is not installed: {INSTALL}");
    Command::new("xmlsec1")
}

/// One SP with its own key and metadata, in a directory of its own (removed on drop).
pub struct Sp {
    pub dir: PathBuf,
    pub entity_id: String,
    pub acs: String,
    pub slo: String,
}

impl Sp {
    /// Makes the SP: key, self-signed certificate and metadata, made by pysaml2's own toolkit.
    pub fn new(name: &str) -> Sp {
        let dir = std::env::temp_dir().join(format!("danang-sso-sp-{name}-{}", danang_sso::oidc::random_id()));
        let entity_id = format!("https://{name}.danang.gov.vn/saml/metadata");
        let base = format!("http://127.0.0.1:9/{name}");
        let sp = Sp { dir, entity_id, acs: format!("{base}/acs"), slo: format!("{base}/slo") };
        let dir = sp.dir.to_string_lossy().into_owned();
        sp.run(&["init", &dir, &sp.entity_id, &base], None).expect("sp.py init");
        sp
    }

    /// Registered from its metadata file, as an operator would.
    pub fn config(&self, name: &str) -> ServiceProviderConfig {
        ServiceProviderConfig {
            metadata_file: Some(self.dir.join("sp-metadata.xml")),
            name: Some(name.into()),
            ..Default::default()
        }
    }

    /// Reads the IdP's metadata from `/saml/metadata`, as the SP's administrator would.
    pub async fn trust(&self, app: &TestApp) {
        let metadata = http().get(format!("{}/saml/metadata", app.url)).send().await.unwrap();
        assert_eq!(metadata.status(), 200);
        assert!(metadata.headers()["content-type"].to_str().unwrap().starts_with("application/samlmetadata+xml"));
        std::fs::write(self.dir.join("idp.xml"), metadata.text().await.unwrap()).unwrap();
    }

    /// Runs `sp.py COMMAND WORKDIR ARGS…`: `Ok` with its JSON, or `Err` with it when the SP refused a message.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<Value, Value> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/saml/sp.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run sp.py ({e}): {INSTALL}"));
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
        drop(input);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("No module named 'saml2'"), "pysaml2 is missing: {INSTALL}");
        let json: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("sp.py {args:?} printed no JSON; stderr:\n{stderr}"));
        match out.status.code() {
            Some(0) => Ok(json),
            Some(3) => Err(json),
            _ => panic!("sp.py {args:?} failed: {json}\n{stderr}"),
        }
    }

    fn command(&self, command: &str, args: &[&str]) -> Result<Value, Value> {
        let dir = self.dir.to_string_lossy().into_owned();
        let mut all = vec![command, dir.as_str()];
        all.extend_from_slice(args);
        self.run(&all, None)
    }

    /// `sp.py COMMAND WORKDIR ARGS…` that must succeed.
    pub fn ok(&self, command: &str, args: &[&str]) -> Value {
        self.command(command, args).unwrap_or_else(|e| panic!("the SP refused {command}: {e}"))
    }

    /// `sp.py COMMAND WORKDIR ARGS…` that the SP must refuse: its error message.
    pub fn refused(&self, command: &str, args: &[&str]) -> String {
        let e = self.command(command, args).expect_err("the SP must refuse it");
        e["error"].as_str().unwrap_or_default().to_owned()
    }

    /// An AuthnRequest (see sp.py for the flags).
    pub fn authn(&self, flags: &[&str]) -> Value {
        self.ok("authn", flags)
    }

    /// Validates a Response the browser carried to the ACS.
    pub fn response(&self, request_id: &str, fields: &[(String, String)]) -> Result<Value, Value> {
        let posted: serde_json::Map<String, Value> =
            fields.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let dir = self.dir.to_string_lossy().into_owned();
        self.run(&["response", &dir, request_id], Some(&Value::Object(posted).to_string()))
    }
}

impl Drop for Sp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The auto-submitted POST to an ACS: its action and fields.
pub fn form_post(page: &Page) -> (String, Vec<(String, String)>) {
    assert_eq!(page.status, 200, "expected the auto-submitted form, got {}: {}", page.status, page.body);
    assert!(page.body.contains("/static/form_post.js"), "not the auto-submit page: {}", page.body);
    (page.form_action().expect("a form"), page.hidden_fields())
}

/// The decoded XML of the `SAMLResponse` field.
pub fn response_xml(fields: &[(String, String)]) -> String {
    use base64::Engine;
    let value = &fields.iter().find(|(k, _)| k == "SAMLResponse").expect("a SAMLResponse").1;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(value).unwrap()).unwrap()
}

/// Replaces `SAMLResponse` with `xml`, base64-encoded.
pub fn with_response(fields: &[(String, String)], xml: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
    fields.iter().map(|(k, v)| (k.clone(), if k == "SAMLResponse" { encoded.clone() } else { v.clone() })).collect()
}
