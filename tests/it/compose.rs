//! The container files, checked without a Docker engine (none runs on the build machines): every file the
//! Dockerfiles and docker-compose.yml reference exists, the compose environment is a valid config, and the
//! compose stack's OpenLDAP scripts really start and seed a slapd (Debian's, the same package the image installs).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::harness::{TempDir, free_port};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const DOCKERFILES: [&str; 2] = ["Dockerfile", "config/compose/openldap.Dockerfile"];

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `(sources, destination)` of every `COPY` from the build context (not `--from=` a stage).
fn copies(dockerfile: &str) -> Vec<(Vec<String>, String)> {
    let text = read(dockerfile);
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(args) = line.strip_prefix("COPY ") else { continue };
        if args.contains("--from=") {
            continue;
        }
        let mut words: Vec<String> =
            args.split_whitespace().filter(|w| !w.starts_with("--")).map(String::from).collect();
        let destination = words.pop().expect("COPY has a destination");
        out.push((words, destination));
    }
    out
}

/// The value of every `key: value` line in the compose file, unquoted.
fn compose_values(key: &str) -> Vec<String> {
    let prefix = format!("{key}:");
    let text = read("docker-compose.yml");
    let values = text.lines().filter_map(|l| l.trim().strip_prefix(&prefix).map(str::trim));
    values.filter(|v| !v.is_empty()).map(|v| v.trim_matches(['"', '\'']).to_owned()).collect()
}

#[test]
fn every_file_the_dockerfiles_and_the_compose_file_reference_exists() {
    let compose_dockerfiles = compose_values("dockerfile");
    assert_eq!(compose_dockerfiles, ["config/compose/openldap.Dockerfile"; 2]);
    assert_eq!(compose_values("build"), ["."], "danang-sso builds from the root Dockerfile");
    let mut referenced: Vec<String> = DOCKERFILES.iter().map(|d| d.to_string()).collect();
    for dockerfile in DOCKERFILES {
        for (sources, _) in copies(dockerfile) {
            referenced.extend(sources);
        }
    }
    // Secrets (`file:`), bind mounts (`- ./host:/container`) and env files.
    referenced.extend(compose_values("file"));
    referenced.extend(compose_values("env_file"));
    let text = read("docker-compose.yml");
    let mounts = text.lines().filter_map(|l| l.trim().strip_prefix("- ./")).map(|m| m.split(':').next().unwrap());
    referenced.extend(mounts.map(|m| format!("./{m}")));
    for path in &referenced {
        assert!(Path::new(ROOT).join(path).exists(), "{path} is referenced but not in the repository");
    }
    assert!(referenced.iter().any(|p| p == "./config/compose/ldap-sso-password.txt"), "{referenced:?}");

    // What the compose file runs inside the OpenLDAP image was copied there, as an executable.
    let ldap_image = copies("config/compose/openldap.Dockerfile");
    for path in ["/usr/local/bin/seed-ldap.sh", "/seed/demo-directory.ldif"] {
        assert!(text.contains(path), "{path} in docker-compose.yml");
        let (sources, _) = ldap_image.iter().find(|(_, dest)| dest == path).unwrap_or_else(|| panic!("COPY to {path}"));
        let mode = std::fs::metadata(Path::new(ROOT).join(&sources[0])).unwrap().permissions().mode();
        assert!(!path.ends_with(".sh") || mode & 0o111 != 0, "{} is executable", sources[0]);
    }
}

#[test]
fn the_image_build_copies_every_file_the_binary_compiles_in() {
    let copied: Vec<String> = copies("Dockerfile").into_iter().flat_map(|(sources, _)| sources).collect();
    let mut compiled_in = 0;
    let mut files = vec![PathBuf::from(ROOT).join("src")];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for part in text.split("include_str!(\"").skip(1) {
            let target = path.parent().unwrap().join(part.split('"').next().unwrap());
            let target = target.canonicalize().unwrap_or_else(|e| panic!("{}: {e}", target.display()));
            let relative = target.strip_prefix(Path::new(ROOT).canonicalize().unwrap()).unwrap().to_owned();
            let top = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
            assert!(
                copied.contains(&top),
                "{} is compiled in but the Dockerfile does not COPY {top}",
                relative.display()
            );
            compiled_in += 1;
        }
    }
    assert!(compiled_in >= 4, "the demo clients and directory, the stylesheet and the script at least");
}

#[test]
fn the_compose_environment_is_a_valid_config() {
    let keys = TempDir::new("compose-keys");
    let secret = format!("{ROOT}/config/compose/ldap-sso-password.txt");
    let text = read("docker-compose.yml");
    let service = text.split("\n  danang-sso:\n").nth(1).expect("the danang-sso service");
    let mut env: Vec<(String, String)> = Vec::new();
    for line in service.lines().map(str::trim).filter(|l| l.starts_with("DANANG_SSO__")) {
        let (key, value) = line.split_once(": ").expect("KEY: value");
        let value = value.trim_matches(['"', '\'']).to_owned();
        // Paths inside the container, mapped to this machine.
        let value = match key {
            "DANANG_SSO__LDAP__BIND_PASSWORD_FILE" => secret.clone(),
            "DANANG_SSO__KEYS__DIR" => keys.path().display().to_string(),
            _ => value,
        };
        env.push((key.to_owned(), value));
    }
    assert!(env.len() >= 10, "{env:?}");
    let output = Command::new(env!("CARGO_BIN_EXE_danang-sso")).arg("check-config").envs(env).output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    assert!(said.contains("directory Ldap, store Redis"), "{said}");
}

#[test]
fn the_ha_profile_runs_sentinel_and_an_instance_that_asks_it() {
    let keys = TempDir::new("compose-keys");
    let secret = format!("{ROOT}/config/compose/ldap-sso-password.txt");
    let text = read("docker-compose.yml");
    let ha = text.split("\n  danang-sso-ha:\n").nth(1).expect("the danang-sso-ha service");
    let ha = ha.split("\n  danang-sso:\n").next().unwrap();
    assert!(ha.contains(r#"profiles: ["ha"]"#), "{ha}");
    for service in ["redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"] {
        let body = text.split(&format!("\n  {service}:\n")).nth(1).unwrap_or_else(|| panic!("{service}"));
        assert!(body.trim_start().starts_with(r#"profiles: ["ha"]"#), "{service} is in the ha profile");
    }
    let sentinel = read("config/compose/sentinel.conf");
    assert!(sentinel.contains("sentinel monitor danang-sso redis 6379 2"), "{sentinel}");
    let mut env: Vec<(String, String)> = Vec::new();
    for line in ha.lines().map(str::trim).filter(|l| l.starts_with("DANANG_SSO__")) {
        let (key, value) = line.split_once(": ").expect("KEY: value");
        let value = match key {
            "DANANG_SSO__LDAP__BIND_PASSWORD_FILE" => secret.clone(),
            "DANANG_SSO__KEYS__DIR" => keys.path().display().to_string(),
            _ => value.trim_matches(['"', '\'']).to_owned(),
        };
        env.push((key.to_owned(), value));
    }
    assert!(env.iter().any(|(k, _)| k == "DANANG_SSO__STORE__SENTINEL_URLS"), "{env:?}");
    let output = Command::new(env!("CARGO_BIN_EXE_danang-sso")).arg("check-config").envs(env).output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
}

/// A process killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ldap_tool(tool: &str, args: &[&str]) -> std::process::Output {
    Command::new(tool).env("LDAPNOINIT", "1").args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"))
}

#[test]
fn the_compose_ldap_scripts_start_and_seed_a_real_slapd() {
    let data = TempDir::new("compose-ldap");
    let compose = format!("{ROOT}/config/compose");
    let port = free_port();
    let url = format!("ldap://127.0.0.1:{port}");
    let admin_password = format!("{compose}/ldap-admin-password.txt");
    let log = std::fs::File::create(data.path().join("slapd.log")).unwrap();
    let slapd = Command::new("sh")
        .arg(format!("{compose}/slapd-start.sh"))
        .env("LDAP_DATA_DIR", data.path().join("data"))
        .env("LDAP_PORT", port.to_string())
        .env("LDAP_ADMIN_PASSWORD_FILE", &admin_password)
        .env("LDAP_CONFIG_TEMPLATE", format!("{compose}/slapd-config.ldif"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("run slapd-start.sh");
    let _slapd = Running(slapd);
    let seed = || {
        let output = Command::new("sh")
            .arg(format!("{compose}/seed-ldap.sh"))
            .env("LDAP_URL", &url)
            .env("LDAP_ADMIN_PASSWORD_FILE", &admin_password)
            .env("LDAP_SSO_PASSWORD_FILE", format!("{compose}/ldap-sso-password.txt"))
            .env("SEED_LDIF", format!("{ROOT}/config/demo-directory.ldif"))
            .output()
            .unwrap();
        let log = std::fs::read_to_string(data.path().join("slapd.log")).unwrap_or_default();
        assert!(output.status.success(), "{output:?}\nslapd:\n{log}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(seed().contains("demo directory loaded"));
    assert!(seed().contains("seeded already"), "a second run changes nothing");

    let person = "uid=dungnv,ou=people,dc=danang,dc=gov,dc=vn";
    assert!(ldap_tool("ldapwhoami", &["-x", "-H", &url, "-D", person, "-w", "Danang@2026"]).status.success());
    let locked = ldap_tool(
        "ldapwhoami",
        &["-x", "-H", &url, "-D", "uid=khoanm,ou=people,dc=danang,dc=gov,dc=vn", "-w", "Danang@2026"],
    );
    assert_eq!(locked.status.code(), Some(49), "the locked account is refused");
    let sso_password = std::fs::read_to_string(format!("{compose}/ldap-sso-password.txt")).unwrap();
    let found = ldap_tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-H",
            &url,
            "-D",
            "cn=sso,dc=danang,dc=gov,dc=vn",
            "-w",
            &sso_password,
            "-b",
            "ou=people,dc=danang,dc=gov,dc=vn",
            "(mail=dungnv@danang.gov.vn)",
            "entryUUID",
            "memberOf",
        ],
    );
    let found = String::from_utf8_lossy(&found.stdout);
    assert!(found.contains("entryUUID: b5638b9e-9d37-4dff-88f7-315bad2df2fa"), "the demo sub is kept: {found}");
    assert!(found.contains("memberOf: cn=can-bo,ou=groups,dc=danang,dc=gov,dc=vn"), "memberOf filled in: {found}");
}
