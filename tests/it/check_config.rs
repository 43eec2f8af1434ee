//! `danang-sso check-config`, the real binary: broken configs are refused with the key of each problem,
//! unknown keys are errors everywhere (sections, `[[clients]]`, the environment), the example config passes and
//! documents every key there is.

use std::path::Path;
use std::process::Command;

use danang_sso::config::{ClientConfig, Config};

use crate::harness::{TempDir, TestCa};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/danang-sso.example.toml");

/// Runs `check-config` on `config` written to `dir`; the exit code and everything printed.
fn check_in(dir: &Path, config: &str, env: &[(&str, &str)]) -> (i32, String) {
    let file = dir.join("danang-sso.toml");
    std::fs::write(&file, config).unwrap();
    check_file(&file, env)
}

fn check_file(file: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_danang-sso"))
        .args(["check-config", "--config"])
        .arg(file)
        .envs(env.iter().copied())
        .output()
        .expect("run danang-sso check-config");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().expect("an exit code"), text)
}

fn refused(dir: &Path, config: &str, env: &[(&str, &str)]) -> String {
    let (code, text) = check_in(dir, config, env);
    assert_eq!(code, 2, "refused with exit code 2: {config}\n{text}");
    text
}

/// Every line of `text` that reports a problem, as `key: message`.
fn problem_keys(text: &str) -> Vec<String> {
    text.lines().filter_map(|l| l.split_once(": ")).map(|(k, _)| k.trim_start_matches("danang-sso: ").into()).collect()
}

#[test]
fn the_example_config_passes() {
    let (code, text) = check_file(Path::new(EXAMPLE), &[]);
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("config OK: 1 client(s)"), "{text}");
}

#[test]
fn unknown_keys_are_errors_in_every_section_in_clients_and_in_the_environment() {
    let dir = TempDir::new("check-config");
    let cases = [
        ("[server]\nlisten_addr = \"0.0.0.0:80\"\n", "server.listen_addr: unknown field"),
        ("[logging]\nlevel = \"info\"\n", "logging: unknown field"),
        ("[ldap.attributes]\nuid = \"uid\"\n", "ldap.attributes.uid: unknown field"),
        ("[[clients]]\nclient_id = \"a\"\nredirect_uri = \"https://a/cb\"\n", "clients.0.redirect_uri: unknown field"),
        ("[log]\nformat = \"xml\"\n", "log.format: unknown variant"),
    ];
    for (config, expected) in cases {
        let text = refused(dir.path(), config, &[]);
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    let text = refused(dir.path(), "", &[("DANANG_SSO__SERVER__BOGUS", "1")]);
    assert!(text.contains("server.bogus: unknown field"), "{text}");
}

#[test]
fn each_problem_is_printed_with_its_key() {
    let dir = TempDir::new("check-config");
    let not_a_dir = dir.path().join("keys-file");
    std::fs::write(&not_a_dir, "").unwrap();
    let missing = dir.path().join("missing");
    let config = format!(
        r#"
[server]
issuer = "sso.danang.gov.vn"
metrics_listen = "nowhere"

[directory]
kind = "ldap"

[ldap]
urls = ["ldaps://ldap.danang.gov.vn:636", "http://ldap.danang.gov.vn"]
bind_password_file = {missing:?}

[keys]
dir = {not_a_dir:?}

[log]
level = "danang_sso=loud"

[[clients]]
client_id = "portal"
client_secret_hash = "not-a-hash"
redirect_uris = ["https://portal.danang.gov.vn/cb#top"]

[[clients]]
client_id = "vanban"
redirect_uris = ["https://vanban.danang.gov.vn/cb"]
jwks_file = {missing:?}
"#,
        missing = missing.display().to_string(),
        not_a_dir = not_a_dir.display().to_string(),
    );
    let text = refused(dir.path(), &config, &[]);
    let keys = problem_keys(&text);
    for key in [
        "server.issuer",
        "server.metrics_listen",
        "ldap.urls",
        "ldap.bind_password_file",
        "keys.dir",
        "log.level",
        "clients[0].client_secret_hash",
        "clients[0].redirect_uris",
        "clients[1].jwks_file",
    ] {
        assert!(keys.iter().any(|k| k == key), "{key} reported in:\n{text}");
    }
    assert!(text.contains("ldap.urls: http://ldap.danang.gov.vn: must be ldap://"), "{text}");
    assert!(text.contains("keys.dir: ") && text.contains("is not a directory"), "{text}");
    assert!(!text.contains("ldaps://ldap.danang.gov.vn:636:"), "a good URL is not reported: {text}");
}

#[test]
fn tls_files_must_exist_parse_and_match() {
    let dir = TempDir::new("check-config");
    let (ca, other) = (TestCa::new(), TestCa::new());
    let tls = |cert: &Path, key: &Path| {
        format!(
            "[server]\nissuer = \"https://sso.danang.gov.vn\"\ntls_cert_file = {:?}\ntls_key_file = {:?}\n",
            cert.display().to_string(),
            key.display().to_string()
        )
    };
    let (cert, key) = (ca.dir.join("cert.pem"), ca.dir.join("key.pem"));
    let (code, text) = check_in(dir.path(), &tls(&cert, &key), &[]);
    assert_eq!(code, 0, "a matching pair passes: {text}");

    let text = refused(dir.path(), &tls(&dir.path().join("none.pem"), &key), &[]);
    assert!(text.contains("server.tls_cert_file: ") && text.contains("No such file"), "{text}");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").unwrap();
    let text = refused(dir.path(), &tls(&garbage, &key), &[]);
    assert!(text.contains("server.tls_cert_file: ") && text.contains("not a PEM certificate"), "{text}");
    let text = refused(dir.path(), &tls(&cert, &cert), &[]);
    assert!(text.contains("server.tls_key_file: ") && text.contains("not a PEM private key"), "{text}");
    let text = refused(dir.path(), &tls(&cert, &other.dir.join("key.pem")), &[]);
    assert!(text.contains("server.tls_key_file: ") && text.contains("does not match the certificate"), "{text}");

    let plain = tls(&cert, &key).replace("https://", "http://");
    assert!(refused(dir.path(), &plain, &[]).contains("server.issuer: must be https://"));
}

#[test]
fn the_service_refuses_to_start_with_an_invalid_config_and_says_why() {
    let dir = TempDir::new("check-config");
    let file = dir.path().join("danang-sso.toml");
    std::fs::write(&file, "[server]\nissuer = \"sso.danang.gov.vn\"\n").unwrap();
    let output =
        Command::new(env!("CARGO_BIN_EXE_danang-sso")).args(["serve", "--config"]).arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid configuration") && stderr.contains("server.issuer: "), "{stderr}");
}

/// `(section, key)` of every leaf in `value`: `("server", "listen")`, `("ldap.attributes", "id")`.
fn leaves(section: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    for (key, v) in value.as_object().expect("a table") {
        match v {
            serde_json::Value::Object(_) => {
                let inner = if section.is_empty() { key.clone() } else { format!("{section}.{key}") };
                leaves(&inner, v, out);
            }
            _ => out.push((section.to_owned(), key.clone())),
        }
    }
}

#[test]
fn the_example_config_documents_every_key() {
    let mut keys = Vec::new();
    let mut config = serde_json::to_value(Config::default()).unwrap();
    config.as_object_mut().unwrap().remove("clients");
    leaves("", &config, &mut keys);
    leaves("[clients]", &serde_json::to_value(ClientConfig::default()).unwrap(), &mut keys);

    // What the example sets or shows commented out, by section (`[[clients]]` as "[clients]").
    let example = std::fs::read_to_string(EXAMPLE).unwrap();
    let mut documented = Vec::new();
    let mut section = String::new();
    for line in example.lines() {
        if let Some(header) = line.strip_prefix('[') {
            section = match header.strip_prefix('[') {
                Some(array) => format!("[{}]", array.trim_end_matches(']')),
                None => header.trim_end_matches(']').to_owned(),
            };
            continue;
        }
        let setting = line.trim_start_matches("# ");
        if let Some((key, _)) = setting.split_once(" = ")
            && !key.contains(' ')
        {
            documented.push((section.clone(), key.to_owned()));
        }
    }
    let missing: Vec<_> = keys.iter().filter(|k| !documented.contains(k)).collect();
    assert!(missing.is_empty(), "not in config/danang-sso.example.toml (section, key): {missing:?}");
}

#[test]
fn a_redis_store_takes_exactly_one_of_its_three_shapes_also_from_the_environment() {
    let dir = TempDir::new("check-config");
    let text = refused(dir.path(), "[store]\nkind = \"redis\"\n", &[]);
    assert!(text.contains("store.redis_url: required when store.kind = \"redis\""), "{text}");
    let both = "[store]\nkind = \"redis\"\nredis_url = \"redis://127.0.0.1:6379\"\n";
    let text = refused(dir.path(), both, &[("DANANG_SSO__STORE__SENTINEL_URLS", r#"["redis://127.0.0.1:26379"]"#)]);
    assert_eq!(problem_keys(&text), ["store.sentinel_urls"], "{text}");
    assert!(text.contains("set together with store.redis_url"), "{text}");
    let sentinel = [
        ("DANANG_SSO__STORE__KIND", "redis"),
        ("DANANG_SSO__STORE__SENTINEL_URLS", r#"["redis://127.0.0.1:26379", "redis://127.0.0.1:26380"]"#),
        ("DANANG_SSO__STORE__SENTINEL_MASTER", "danang-sso"),
        ("DANANG_SSO__STORE__MIN_REPLICA_ACKS", "1"),
    ];
    let (code, text) = check_in(dir.path(), "", &sentinel);
    assert_eq!(code, 0, "{text}");
    let cluster = [("DANANG_SSO__STORE__KIND", "redis"), ("DANANG_SSO__STORE__CLUSTER_URLS", r#"["http://x:7000"]"#)];
    let text = refused(dir.path(), "", &cluster);
    assert_eq!(problem_keys(&text), ["store.cluster_urls"], "{text}");
}

#[test]
fn the_ui_keys_are_checked_also_from_the_environment() {
    let dir = TempDir::new("check-config");
    let text = refused(dir.path(), "[ui]\npassword_reset_url = \"javascript:alert(1)\"\n", &[]);
    assert_eq!(problem_keys(&text), ["ui.password_reset_url"], "{text}");
    let env = [
        ("DANANG_SSO__UI__PASSWORD_RESET_URL", "ftp://matkhau.danang.gov.vn/"),
        ("DANANG_SSO__UI__DEFAULT_LANGUAGE", "fr"),
    ];
    let text = refused(dir.path(), "", &env);
    assert_eq!(problem_keys(&text), ["ui.default_language", "ui.password_reset_url"], "{text}");
    let good = [
        ("DANANG_SSO__UI__PASSWORD_RESET_URL", "https://matkhau.danang.gov.vn/quen-mat-khau"),
        ("DANANG_SSO__UI__DEFAULT_LANGUAGE", "en"),
        ("DANANG_SSO__UI__FOLLOW_BROWSER_LANGUAGE", "true"),
        ("DANANG_SSO__UI__SUPPORT_CONTACT", "Trung tâm CNTT, 0236 1234 567"),
    ];
    let (code, text) = check_in(dir.path(), "", &good);
    assert_eq!(code, 0, "{text}");
    let config = Config::load(Some(&dir.path().join("danang-sso.toml"))).unwrap();
    assert_eq!(config.ui.default_language, "vi", "without the environment, the embedded default");
}
