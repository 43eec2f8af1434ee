//! A throwaway OpenLDAP `slapd` configured like the city's directory (mdb; memberof, refint,
//! ppolicy with lockout, argon2), so the LDAP adapter is tested against the real server.

use super::{Daemon, PORT_ATTEMPTS, PROBE_TIMEOUT, Startup, TempDir, TestCa, binary, first_existing, ldif, run};
use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

const CONFIG_TEMPLATE: &str = include_str!("slapd-config.ldif");
const BASE_ENTRIES: &str = include_str!("slapd-base.ldif");
const ADMIN_PASSWORD: &str = "admin-password";

/// One slapd child process with its own config, database and ports.
pub struct Slapd {
    /// `ldap://127.0.0.1:PORT`; StartTLS works on it too when started with TLS.
    pub url: String,
    pub port: u16,
    /// `dc=danang,dc=gov,dc=vn`, with `ou=people`, `ou=groups` and `ou=policies` below it.
    pub base_dn: String,
    /// The root DN: may do anything, also set operational attributes through the relax control.
    pub admin_dn: String,
    pub admin_password: String,
    /// `cn=sso,dc=danang,dc=gov,dc=vn`: reads everything except passwords.
    pub service_dn: String,
    pub service_password: String,
    tls_port: Option<u16>,
    ldif_files: AtomicU32,
    daemon: Daemon,
    /// Declared after `daemon`, so the process is dead before its files go.
    dir: TempDir,
}

impl Slapd {
    /// Starts a slapd on a free port, with the base entries and the service account loaded.
    pub fn start() -> Slapd {
        Slapd::launch(None, None)
    }

    /// Starts a slapd whose database already holds `entries` (LDIF records below the base entries),
    /// added offline with `slapadd -q` before slapd runs: 20,000 accounts load in about a second,
    /// where `ldapadd` takes many times longer. slapadd bypasses the overlays, so `memberOf` stays
    /// empty: for entries without groups, such as the benchmark's generated accounts.
    pub fn start_preloaded(entries: &str) -> Slapd {
        Slapd::launch(None, Some(entries))
    }

    /// Also serves `ldaps://` on a second port and StartTLS on the first, with `ca`'s leaf
    /// certificate (the files are copied, so `ca` may be dropped).
    pub fn start_with_tls(ca: &TestCa) -> Slapd {
        Slapd::launch(Some(ca), None)
    }

    /// `ldaps://127.0.0.1:PORT` when started with TLS.
    pub fn ldaps_url(&self) -> Option<String> {
        self.tls_port.map(|port| format!("ldaps://127.0.0.1:{port}"))
    }

    /// Adds the entries with `ldapadd` as admin while slapd runs, so the overlays see them
    /// (`memberOf` gets filled in). A whole directory export loads as is: the entries the
    /// harness made are skipped, and `memberOf`, `entryCSN`, `structuralObjectClass` and the
    /// like are dropped. `entryUUID` is **kept** (sent with the relax control), so a fixture's
    /// ids are the ids slapd reports; so are `pwdAccountLockedTime` and timestamps.
    pub fn load_ldif(&self, ldif: &str) {
        self.ldap_tool("ldapadd", &ldif::for_ldapadd(ldif));
    }

    /// Applies change records (`changetype: modify` …) with `ldapmodify` as admin.
    pub fn modify(&self, ldif: &str) {
        self.ldap_tool("ldapmodify", ldif);
    }

    /// slapd's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.daemon.pid()
    }

    /// Kills slapd; its port and data stay for [`Slapd::restart`].
    pub fn stop(&mut self) {
        self.daemon.stop();
    }

    /// Starts slapd again on the same port(s) with the same data (stops it first if it runs).
    pub fn restart(&mut self) {
        if self.spawn() == Startup::PortTaken {
            panic!("slapd cannot restart: another process took port {}", self.port);
        }
    }

    fn launch(ca: Option<&TestCa>, entries: Option<&str>) -> Slapd {
        let dir = TempDir::new("slapd");
        configure(dir.path(), ca, entries);
        let mut slapd = Slapd {
            url: String::new(),
            port: 0,
            base_dn: "dc=danang,dc=gov,dc=vn".into(),
            admin_dn: "cn=admin,dc=danang,dc=gov,dc=vn".into(),
            admin_password: ADMIN_PASSWORD.into(),
            service_dn: "cn=sso,dc=danang,dc=gov,dc=vn".into(),
            service_password: "sso-service-password".into(),
            tls_port: None,
            ldif_files: AtomicU32::new(0),
            daemon: Daemon::new("slapd", dir.path().join("slapd.log")),
            dir,
        };
        for _ in 0..PORT_ATTEMPTS {
            slapd.port = super::free_port();
            slapd.url = format!("ldap://127.0.0.1:{}", slapd.port);
            slapd.tls_port = ca.map(|_| super::free_port());
            if slapd.spawn() == Startup::Ready {
                return slapd;
            }
        }
        panic!("slapd: {PORT_ATTEMPTS} ports in a row were taken by other processes");
    }

    fn spawn(&mut self) -> Startup {
        let mut urls = format!("{}/", self.url);
        if let Some(ldaps) = self.ldaps_url() {
            urls = format!("{urls} {ldaps}/");
        }
        let mut command = Command::new(binary("slapd"));
        // `-d none`: stay in the foreground and print only errors; no `-u`, so no privilege drop.
        command.args(["-d", "none", "-h", &urls, "-F"]).arg(self.dir.path().join("slapd.d"));
        let port = self.port;
        self.daemon.start(&mut command, || root_dse_answers(port))
    }

    /// Runs `ldapadd` or `ldapmodify` as admin on `ldif`, through a file (no pipe to dead-lock on).
    fn ldap_tool(&self, tool: &str, ldif: &str) {
        let n = self.ldif_files.fetch_add(1, Ordering::Relaxed);
        let file = self.dir.path().join(format!("{tool}-{n}.ldif"));
        fs::write(&file, ldif).expect("write LDIF for slapd");
        let mut command = Command::new(binary(tool));
        // LDAPNOINIT: ignore ldap.conf and LDAP* variables of whoever runs the tests.
        command.env("LDAPNOINIT", "1").args(["-x", "-e", "relax", "-H", &self.url]);
        command.args(["-D", &self.admin_dn, "-w", &self.admin_password, "-f"]).arg(&file);
        run(&mut command);
        let _ = fs::remove_file(file);
    }
}

/// `password` hashed by `slappasswd -h {SSHA}` (salted SHA-1, slapd's default scheme): hash once,
/// give the value to many entries.
pub fn ssha_hash(password: &str) -> String {
    run(Command::new(binary("slappasswd")).args(["-h", "{SSHA}", "-s", password])).trim().to_owned()
}

/// Builds `slapd.d` and the database with `slapadd`, before slapd runs (a few tens of ms), with
/// `entries` added after the base entries when given.
fn configure(dir: &Path, ca: Option<&TestCa>, entries: Option<&str>) {
    let db = dir.join("db");
    fs::create_dir_all(&db).expect("create slapd database dir");
    fs::create_dir_all(dir.join("slapd.d")).expect("create slapd.d");
    let mut tls = String::new();
    if let Some(ca) = ca {
        for (file, attribute) in [
            ("ca.pem", "olcTLSCACertificateFile"),
            ("cert.pem", "olcTLSCertificateFile"),
            ("key.pem", "olcTLSCertificateKeyFile"),
        ] {
            fs::copy(ca.dir.join(file), dir.join(file)).expect("copy TLS file for slapd");
            tls += &format!("{attribute}: {}\n", dir.join(file).display());
        }
    }
    let modules = first_existing("OpenLDAP module dir", &["/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap"]);
    let schema = first_existing("OpenLDAP schema dir", &["/etc/ldap/schema", "/etc/openldap/schema"]);
    let config = CONFIG_TEMPLATE
        .replace("@TLS@\n", &tls)
        .replace("@MODULES@", &modules.display().to_string())
        .replace("@SCHEMA@", &schema.display().to_string())
        .replace("@ADMIN_PASSWORD@", ADMIN_PASSWORD)
        .replace("@DB@", &db.display().to_string());
    fs::write(dir.join("config.ldif"), config).expect("write slapd config");
    fs::write(dir.join("base.ldif"), BASE_ENTRIES).expect("write slapd base entries");
    let slapadd = || {
        let mut command = Command::new(binary("slapadd"));
        command.arg("-F").arg(dir.join("slapd.d"));
        command
    };
    run(slapadd().args(["-n0", "-l"]).arg(dir.join("config.ldif")));
    run(slapadd().args(["-q", "-n1", "-l"]).arg(dir.join("base.ldif")));
    if let Some(entries) = entries {
        fs::write(dir.join("entries.ldif"), entries).expect("write slapd entries");
        run(slapadd().args(["-q", "-n1", "-l"]).arg(dir.join("entries.ldif")));
        let _ = fs::remove_file(dir.join("entries.ldif"));
    }
}

/// An anonymous search of the root DSE, BER-encoded by hand (RFC 4511 § 4.5.1).
const ROOT_DSE_SEARCH: [u8; 39] = [
    0x30, 0x25, // LDAPMessage
    0x02, 0x01, 0x01, // messageID 1
    0x63, 0x20, // SearchRequest
    0x04, 0x00, // baseObject ""
    0x0a, 0x01, 0x00, // scope baseObject
    0x0a, 0x01, 0x00, // derefAliases never
    0x02, 0x01, 0x00, // sizeLimit 0
    0x02, 0x01, 0x00, // timeLimit 0
    0x01, 0x01, 0x00, // typesOnly FALSE
    0x87, 0x0b, // filter: present
    b'o', b'b', b'j', b'e', b'c', b't', b'C', b'l', b'a', b's', b's', // objectClass
    0x30, 0x00, // attributes: none listed, so all user attributes
];

/// Whether slapd answers a root DSE search with success: it listens and its database is open.
/// Spoken over a raw socket, as spawning `ldapsearch` every few ms would cost more than slapd's start.
fn root_dse_answers(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, PROBE_TIMEOUT) else {
        return false;
    };
    if stream.set_read_timeout(Some(PROBE_TIMEOUT)).is_err() || stream.write_all(&ROOT_DSE_SEARCH).is_err() {
        return false;
    }
    let mut received = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        if let Some(code) = search_result_code(&received) {
            return code == 0;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The result code of the SearchResultDone among the complete LDAP messages in `bytes`, if any.
fn search_result_code(mut bytes: &[u8]) -> Option<u8> {
    while let Some((_, message, rest)) = ber_element(bytes) {
        let (_, _message_id, operation) = ber_element(message)?;
        let (tag, result, _) = ber_element(operation)?;
        if tag == 0x65 {
            // SearchResultDone starts with resultCode: ENUMERATED, one byte long.
            return result.get(2).copied();
        }
        bytes = rest;
    }
    None
}

/// Splits one BER element off `bytes`: (tag, contents, rest); `None` until it is complete.
fn ber_element(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, bytes) = bytes.split_first()?;
    let (&first, mut bytes) = bytes.split_first()?;
    let mut length = usize::from(first);
    if first & 0x80 != 0 {
        if first & 0x7f > 4 {
            return None;
        }
        let (octets, rest) = bytes.split_at_checked(usize::from(first & 0x7f))?;
        length = octets.iter().fold(0, |length, &octet| length << 8 | usize::from(octet));
        bytes = rest;
    }
    let (contents, rest) = bytes.split_at_checked(length)?;
    Some((tag, contents, rest))
}
