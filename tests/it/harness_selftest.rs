//! Tests of the test harness itself: the servers it starts are real, configured as the city's
//! directory is, and answer again on the same port after a restart.

use crate::harness::{Redis, Reply, Slapd, TestCa, free_port, ssha_hash};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

/// Slapd's argon2 module hashed this one (`slappasswd -o module-load=argon2 -h '{ARGON2}'`).
const PASSWORD: &str = "Mật-khẩu-1";
const PASSWORD_HASH: &str = "{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$zofKEjN07jZ9sXroe+F0Kg$\
                             SVBpHGuXxQ2MfzmimsT0oSRcbJUY437AnmNNhY3bn0E";
const DUNG: &str = "uid=dungnv,ou=people,dc=danang,dc=gov,dc=vn";
const LOCKED: &str = "uid=khoa,ou=people,dc=danang,dc=gov,dc=vn";
const DUNG_UUID: &str = "6f1c1a52-3c1d-4c7e-9a57-6f7d4d1b2c3a";

/// Like a directory export: the base entries again, a group before its member, and attributes
/// only slapd may write.
fn export() -> String {
    format!(
        "version: 1

dn: dc=danang, dc=gov, dc=vn
objectClass: dcObject
objectClass: organization
dc: danang
o: Da Nang

dn: cn=staff,ou=groups,dc=danang,dc=gov,dc=vn
objectClass: groupOfNames
cn: staff
member: {DUNG}

dn: {DUNG}
objectClass: inetOrgPerson
uid: dungnv
cn:: Tmd1eeG7hW4gVsSDbiBExaluZw==
sn: Nguyen
mail: dungnv@danang.gov.vn
userPassword: {PASSWORD_HASH}
entryUUID: {DUNG_UUID}
memberOf: cn=stale,ou=groups,dc=danang,dc=gov,dc=vn
structuralObjectClass: inetOrgPerson
createTimestamp: 20240101000000Z

dn: {LOCKED}
objectClass: inetOrgPerson
uid: khoa
cn: Tran Khoa
sn: Tran
mail: khoa@danang.gov.vn
userPassword: {PASSWORD_HASH}
pwdAccountLockedTime: 000001010000Z
"
    )
}

/// Runs an ldap-utils tool; returns its exit code (the LDAP result code) and what it printed.
fn ldap(tool: &str, url: &str, args: &[&str], trusted_ca: Option<&TestCa>) -> (i32, String) {
    let mut command = Command::new(tool);
    command.args(["-x", "-H", url]).args(args);
    match trusted_ca {
        Some(ca) => command.env("LDAPTLS_CACERT", ca.dir.join("ca.pem")).env("LDAPTLS_REQCERT", "demand"),
        None => command.env("LDAPNOINIT", "1"),
    };
    let output = command.output().unwrap_or_else(|err| panic!("run {tool}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), stdout.into_owned())
}

fn bind(slapd: &Slapd, dn: &str, password: &str) -> i32 {
    ldap("ldapwhoami", &slapd.url, &["-D", dn, "-w", password], None).0
}

/// A subtree search as the login service's account, output unwrapped.
fn search_as_service(slapd: &Slapd, filter: &str, attributes: &[&str]) -> String {
    let mut args = vec!["-LLL", "-o", "ldif-wrap=no", "-D", &slapd.service_dn, "-w", &slapd.service_password];
    args.extend(["-b", &slapd.base_dn, filter]);
    args.extend(attributes);
    let (code, output) = ldap("ldapsearch", &slapd.url, &args, None);
    assert_eq!(code, 0, "{output}");
    output
}

/// The program name of a running process, from `/proc`.
fn command_of(pid: Option<u32>) -> String {
    let pid = pid.expect("the server runs");
    std::fs::read_to_string(format!("/proc/{pid}/comm")).expect("the process exists").trim().to_owned()
}

fn refuses_connections(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn slapd_starts_with_the_base_entries_and_a_read_only_service_account() {
    let slapd = Slapd::start();
    assert_eq!(slapd.url, format!("ldap://127.0.0.1:{}", slapd.port));
    assert_eq!(slapd.ldaps_url(), None);
    assert_eq!(bind(&slapd, &slapd.admin_dn, &slapd.admin_password), 0);

    let units = search_as_service(&slapd, "(objectClass=organizationalUnit)", &["ou"]);
    assert!(units.contains("ou: people") && units.contains("ou: groups"), "{units}");
    let service = search_as_service(&slapd, "(cn=sso)", &["cn", "userPassword", "entryUUID"]);
    assert!(service.contains("entryUUID: ") && !service.contains("userPassword"), "{service}");

    // Anonymous sees nothing, not even that the base exists.
    let anonymous = ["-LLL", "-b", &slapd.base_dn];
    let (code, output) = ldap("ldapsearch", &slapd.url, &anonymous, None);
    assert_eq!(code, 32, "noSuchObject: {output}");
}

#[test]
fn slapd_loads_an_export_fills_member_of_and_refuses_locked_accounts() {
    let slapd = Slapd::start();
    slapd.load_ldif(&export());

    let dung = search_as_service(&slapd, "(uid=dungnv)", &["entryUUID", "memberOf", "createTimestamp"]);
    assert!(dung.contains(&format!("entryUUID: {DUNG_UUID}")), "entryUUID kept: {dung}");
    assert!(dung.contains("memberOf: cn=staff,ou=groups,dc=danang,dc=gov,dc=vn"), "{dung}");
    assert!(!dung.contains("cn=stale") && dung.contains("createTimestamp: 20240101000000Z"), "{dung}");
    let locked = search_as_service(&slapd, "(uid=khoa)", &["pwdAccountLockedTime"]);
    assert!(locked.contains("pwdAccountLockedTime: 000001010000Z"), "{locked}");

    assert_eq!(bind(&slapd, DUNG, PASSWORD), 0, "argon2 password");
    assert_eq!(bind(&slapd, DUNG, "wrong"), 49);
    assert_eq!(bind(&slapd, LOCKED, PASSWORD), 49, "ppolicy lock");

    slapd.modify(&format!("dn: {LOCKED}\nchangetype: modify\ndelete: pwdAccountLockedTime\n"));
    assert_eq!(bind(&slapd, LOCKED, PASSWORD), 0, "unlocked");
}

/// The benchmark's way of loading 20,000 accounts: `slapadd` before start, SSHA passwords.
#[test]
fn slapd_starts_preloaded_with_entries_added_offline() {
    let entry = format!(
        "dn: {DUNG}\nobjectClass: inetOrgPerson\nuid: dungnv\ncn: Nguyễn Văn Dũng\nsn: Nguyễn\n\
         mail: dungnv@danang.gov.vn\nentryUUID: {DUNG_UUID}\nuserPassword: {}\n",
        ssha_hash(PASSWORD)
    );
    let slapd = Slapd::start_preloaded(&entry);
    assert_eq!(command_of(slapd.pid()), "slapd", "the pid is the server's own");

    let dung = search_as_service(&slapd, "(mail=dungnv@danang.gov.vn)", &["entryUUID"]);
    assert!(dung.contains(&format!("entryUUID: {DUNG_UUID}")), "{dung}");
    assert_eq!(bind(&slapd, DUNG, PASSWORD), 0, "SSHA password");
    assert_eq!(bind(&slapd, DUNG, "wrong"), 49);
}

#[test]
fn slapd_restarts_on_the_same_port_with_its_data() {
    let mut slapd = Slapd::start();
    slapd.load_ldif(&export());
    let (port, url) = (slapd.port, slapd.url.clone());

    slapd.stop();
    assert!(refuses_connections(port));
    slapd.restart();
    assert_eq!((slapd.port, slapd.url.as_str()), (port, url.as_str()));
    assert_eq!(bind(&slapd, DUNG, PASSWORD), 0);
}

#[test]
fn slapd_speaks_ldaps_and_starttls_with_a_certificate_from_the_test_ca() {
    let ca = TestCa::new();
    assert!(ca.ca_pem.starts_with("-----BEGIN CERTIFICATE-----") && ca.cert_pem != ca.ca_pem);
    assert!(ca.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let mut slapd = Slapd::start_with_tls(&ca);
    let ldaps = slapd.ldaps_url().expect("an ldaps:// url");
    let (dn, password) = (slapd.service_dn.clone(), slapd.service_password.clone());
    let whoami = ["-D", &dn, "-w", &password];

    assert_eq!(ldap("ldapwhoami", &ldaps, &whoami, Some(&ca)).0, 0, "LDAPS");
    let starttls = [&whoami[..], &["-ZZ"]].concat();
    assert_eq!(ldap("ldapwhoami", &slapd.url, &starttls, Some(&ca)).0, 0, "StartTLS");
    let (code, output) = ldap("ldapwhoami", &ldaps, &whoami, Some(&TestCa::new()));
    assert_ne!(code, 0, "a CA that did not sign the certificate is refused: {output}");

    slapd.restart();
    assert_eq!(ldap("ldapwhoami", &ldaps, &whoami, Some(&ca)).0, 0, "LDAPS after restart");
}

#[test]
fn redis_answers_resp_and_restarts_empty_on_the_same_port() {
    let mut redis = Redis::start();
    assert_eq!(redis.url, format!("redis://127.0.0.1:{}", redis.port));
    assert_eq!(redis.command(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(command_of(redis.pid()), "redis-server", "the pid is the server's own");
    assert_eq!(redis.command(&["SET", "sso:k", "giá trị"]), Reply::Status("OK".into()));
    assert_eq!(redis.command(&["GET", "sso:k"]), Reply::Bulk(Some("giá trị".into())));
    assert_eq!(redis.command(&["INCR", "sso:n"]), Reply::Integer(1));
    let Reply::Array(Some(keys)) = redis.command(&["KEYS", "sso:*"]) else { panic!("KEYS answers an array") };
    assert_eq!(keys.len(), 2);

    let port = redis.port;
    redis.stop();
    assert!(refuses_connections(port));
    redis.restart();
    assert_eq!(redis.port, port);
    assert_eq!(redis.command(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(redis.command(&["GET", "sso:k"]), Reply::Bulk(None), "nothing persisted");
}

#[test]
fn redis_with_a_password_refuses_strangers() {
    let redis = Redis::start_with_password("mật khẩu/redis");
    assert_eq!(redis.url, format!("redis://:m%E1%BA%ADt%20kh%E1%BA%A9u%2Fredis@127.0.0.1:{}", redis.port));

    let mut stranger = TcpStream::connect(("127.0.0.1", redis.port)).expect("connect to redis");
    stranger.write_all(b"PING\r\n").expect("send PING");
    let mut answer = [0; 7];
    stranger.read_exact(&mut answer).expect("read the answer");
    assert_eq!(&answer, b"-NOAUTH");

    assert_eq!(redis.command(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn free_ports_are_never_handed_out_twice() {
    let ports: BTreeSet<u16> = (0..50).map(|_| free_port()).collect();
    assert_eq!(ports.len(), 50);
}
