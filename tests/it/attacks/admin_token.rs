//! An admin API opened by an empty or short token (a failed secret mount, `DANANG_SSO__ADMIN__TOKEN=`): with
//! `[admin] listen` set, `check-config` reports it and the service refuses to start; a request without a bearer
//! token, or with an empty one, is refused even when the token is configured.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::app::{TestApp, http, keys_dir, test_config};
use crate::harness::{TempDir, free_port};

const GOOD_TOKEN: &str = "0123456789abcdef0123456789abcdef-admin";

fn config_file(dir: &Path, admin: &str) -> std::path::PathBuf {
    let file = dir.join("danang-sso.toml");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:{}\"\n\n[keys]\ndir = \"{}\"\n\n[admin]\nlisten = \"127.0.0.1:{}\"\n{admin}\n",
        free_port(),
        keys_dir().display(),
        free_port()
    );
    std::fs::write(&file, text).unwrap();
    file
}

fn binary(args: &[&str], file: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_danang-sso"));
    command.args(args).arg("--config").arg(file).envs(env.iter().copied());
    command.env_remove("DANANG_SSO__ADMIN__TOKEN").stdin(Stdio::null());
    command
}

/// `check-config`'s exit code and output.
fn check(file: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let output = binary(&["check-config"], file, env).output().expect("run danang-sso check-config");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().expect("an exit code"), text)
}

/// Starts `serve`, which must exit by itself (refusing) within 20 s: its exit code and output.
fn serve_refuses(file: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let mut child = binary(&["serve"], file, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start danang-sso serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().expect("poll danang-sso").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("danang-sso started with a weak admin token");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("danang-sso output");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().expect("an exit code"), text)
}

#[test]
fn check_config_and_serve_refuse_an_empty_or_short_admin_token() {
    let dir = TempDir::new("admin-token");
    let empty_file = dir.path().join("empty-token");
    std::fs::write(&empty_file, "\n").unwrap();
    let short_file = dir.path().join("short-token");
    std::fs::write(&short_file, "tooshort\n").unwrap();
    // (the [admin] lines, the environment, the key that must be named)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        ("token = \"\"".into(), vec![], "admin.token"),
        ("token = \"short-but-not-empty\"".into(), vec![], "admin.token"),
        (String::new(), vec![("DANANG_SSO__ADMIN__TOKEN", "")], "admin.token"),
        (format!("token_file = \"{}\"", empty_file.display()), vec![], "admin.token_file"),
        (format!("token_file = \"{}\"", short_file.display()), vec![], "admin.token_file"),
    ];
    for (admin, env, key) in cases {
        let file = config_file(dir.path(), &admin);
        let (code, text) = check(&file, &env);
        assert_eq!(code, 2, "check-config refuses `{admin}` {env:?}:\n{text}");
        assert!(text.contains(&format!("{key}: ")) && text.contains("32"), "names {key} and the rule: {text}");
        let (code, text) = serve_refuses(&file, &env);
        assert_ne!(code, 0, "serve refuses `{admin}` {env:?}:\n{text}");
        assert!(text.contains(key), "serve says why: {text}");
    }
    let file = config_file(dir.path(), &format!("token = \"{GOOD_TOKEN}\""));
    let (code, text) = check(&file, &[]);
    assert_eq!(code, 0, "a 32-character token passes: {text}");
}

#[tokio::test]
async fn the_admin_api_refuses_a_missing_or_empty_bearer_token() {
    let mut config = test_config();
    let port = free_port();
    config.admin.listen = Some(format!("127.0.0.1:{port}"));
    config.admin.token = Some(GOOD_TOKEN.into());
    let _app = TestApp::start_with(config).await;
    let admin = format!("http://127.0.0.1:{port}");
    // The admin listener binds as the app starts: wait until it answers.
    let deadline = Instant::now() + Duration::from_secs(10);
    while http().get(format!("{admin}/admin/sessions")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the admin listener never answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let url = format!("{admin}/admin/sessions?account=dungnv@danang.gov.vn");
    for auth in [None, Some("Bearer "), Some("Bearer"), Some("bearer x"), Some(&format!("Bearer {GOOD_TOKEN}x")[..])] {
        let mut request = http().get(&url);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{auth:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_token", "{auth:?}");
    }
    let response = http().get(&url).bearer_auth(GOOD_TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200);
}
