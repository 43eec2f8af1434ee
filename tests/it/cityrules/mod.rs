//! The city's own rules end to end (issue 9): mailbox names against a real slapd and through the real binary,
//! dormant accounts with a clock the tests move, the usage report's totals, the public directory page.

mod directory_page;
mod dormant;
mod mailbox;
mod usage;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use danang_sso::config::Config;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::app::http;
use crate::harness::{Slapd, free_port};

pub const ADMIN_TOKEN: &str = "operator-token-of-the-it-centre-0123456789";

/// `config` with the admin API on a free port; returns the API's base URL too.
pub fn with_admin(mut config: Config) -> (Config, String) {
    let port = free_port();
    config.admin.listen = Some(format!("127.0.0.1:{port}"));
    config.admin.token = Some(ADMIN_TOKEN.into());
    (config, format!("http://127.0.0.1:{port}/admin"))
}

/// What an admin API call answered.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

pub async fn admin_get(url: &str) -> Reply {
    let response = http().get(url).bearer_auth(ADMIN_TOKEN).send().await.expect("the admin API answers");
    let (status, headers) = (response.status(), response.headers().clone());
    Reply { status, headers, body: response.text().await.unwrap() }
}

/// Runs the real `danang-sso` binary (off the test's runtime: the in-process app keeps serving meanwhile),
/// with a clean environment so no `DANANG_SSO__…` variable of the machine leaks in.
pub async fn cli(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_danang-sso")).args(&args).env_clear().output().expect("run danang-sso")
    })
    .await
    .unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A private temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("danang-sso-{name}-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }

    /// Writes `text` to `name` in the dir and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config file's `[directory]` and `[ldap]` for a harness slapd loaded with the demo directory.
pub fn ldap_toml(slapd: &Slapd) -> String {
    format!(
        "[directory]\nkind = \"ldap\"\n\n[ldap]\nurls = [\"{url}\"]\nbind_dn = \"{dn}\"\nbind_password = \"{pw}\"\n\
         base_dn = \"{base}\"\n",
        url = slapd.url,
        dn = slapd.service_dn,
        pw = slapd.service_password,
        base = slapd.base_dn,
    )
}

pub fn path_str(path: &Path) -> String {
    path.display().to_string()
}
