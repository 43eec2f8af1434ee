//! SimpleSAMLphp (Debian's `simplesamlphp` 1.19, unmodified) as a SAML service provider for the interop test,
//! served by PHP's built-in web server on a free loopback port. Only configuration is written, into a private
//! temp dir that `SIMPLESAMLPHP_CONFIG_DIR` points at: `config.php`, `authsources.php` (a `saml:SP` source
//! `default-sp` with a key pair and an X.509 version 1 certificate made by openssl) and, once the IdP runs,
//! `metadata/saml20-idp-remote.php` converted from the IdP's metadata by SimpleSAMLphp's own parser and exporter
//! (what its admin "XML to SimpleSAMLphp metadata converter" does). The document root holds a link to
//! SimpleSAMLphp's `www` at `/simplesaml` and the app: `/app/` (protected by `requireAuth()`, prints the NameID
//! and attributes as JSON), `/app/login.php` (ForceAuthn, IsPassive, MFA), `/app/logout.php` and `/app/status.php`.
//! Stopped on drop; its logs are printed when a test fails.

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Daemon, PORT_ATTEMPTS, PROBE_TIMEOUT, Startup, TempDir, run};

/// Where Debian installs SimpleSAMLphp.
const SIMPLESAMLPHP: &str = "/usr/share/simplesamlphp";

/// What to tell someone whose machine lacks it.
const INSTALL: &str = "install simplesamlphp php-cli php-xml (`sudo apt-get install --no-install-recommends \
     simplesamlphp php-cli php-xml`), or run `bash .ci/test`, which installs what the tests need";

/// The app's pages, written next to SimpleSAMLphp as a PHP app using it would be.
const APP_INDEX: &str = r#"<?php
require_once('/usr/share/simplesamlphp/lib/_autoload.php');
$as = new \SimpleSAML\Auth\Simple('default-sp');
$as->requireAuth();
$nameId = $as->getAuthData('saml:sp:NameID');
header('Content-Type: application/json');
echo json_encode([
    'name_id' => $nameId->getValue(),
    'name_id_format' => $nameId->getFormat(),
    'session_index' => $as->getAuthData('saml:sp:SessionIndex'),
    'idp' => $as->getAuthData('saml:sp:IdP'),
    'authn_context' => $as->getAuthData('saml:sp:AuthnContext'),
    'attributes' => $as->getAttributes(),
]);
"#;

const APP_LOGOUT: &str = r#"<?php
require_once('/usr/share/simplesamlphp/lib/_autoload.php');
$as = new \SimpleSAML\Auth\Simple('default-sp');
$as->logout('http://' . $_SERVER['HTTP_HOST'] . '/app/status.php');
"#;

const APP_STATUS: &str = r#"<?php
require_once('/usr/share/simplesamlphp/lib/_autoload.php');
$as = new \SimpleSAML\Auth\Simple('default-sp');
header('Content-Type: application/json');
echo json_encode(['authenticated' => $as->isAuthenticated()]);
"#;

/// `$as->login()` with `?force` (ForceAuthn), `?passive` (IsPassive, failures to `error.php`) or `?mfa` (a
/// RequestedAuthnContext of the REFEDS MFA profile), back to `/app/`.
const APP_LOGIN: &str = r#"<?php
require_once('/usr/share/simplesamlphp/lib/_autoload.php');
$as = new \SimpleSAML\Auth\Simple('default-sp');
$app = 'http://' . $_SERVER['HTTP_HOST'] . '/app/';
$params = ['ReturnTo' => $app];
if (isset($_GET['force'])) {
    $params['ForceAuthn'] = true;
}
if (isset($_GET['mfa'])) {
    $params['saml:AuthnContextClassRef'] = 'https://refeds.org/profile/mfa';
}
if (isset($_GET['passive'])) {
    $params['isPassive'] = true;
    $params['ErrorURL'] = $app . 'error.php';
}
$as->login($params);
"#;

/// Where a failed passive sign-in lands: the SAML status SimpleSAMLphp received, as JSON.
const APP_ERROR: &str = r#"<?php
require_once('/usr/share/simplesamlphp/lib/_autoload.php');
$state = \SimpleSAML\Auth\State::loadExceptionState();
$e = $state[\SimpleSAML\Auth\State::EXCEPTION_DATA];
header('Content-Type: application/json');
echo json_encode([
    'error' => get_class($e),
    'status' => $e instanceof \SimpleSAML\Module\saml\Error ? $e->getStatus() : null,
    'sub_status' => $e instanceof \SimpleSAML\Module\saml\Error ? $e->getSubStatus() : null,
]);
"#;

/// SimpleSAMLphp's admin metadata converter (www/admin/metadata-converter.php), run from the command line.
const CONVERT: &str = r#"<?php
require_once('/usr/share/simplesamlphp/lib/_autoload.php');
use Symfony\Component\VarExporter\VarExporter;
[, $xmlFile, $outFile] = $argv;
$xmldata = trim(file_get_contents($xmlFile));
\SimpleSAML\Utils\XML::checkSAMLMessage($xmldata, 'saml-meta');
$text = "<?php\n";
foreach (\SimpleSAML\Metadata\SAMLParser::parseDescriptorsString($xmldata) as $entityId => $entity) {
    $metadata = $entity->getMetadata20IdP();
    if ($metadata === null) {
        continue;
    }
    unset($metadata['entityDescriptor'], $metadata['expire']);
    $text .= '$metadata[' . var_export($entityId, true) . '] = ' . VarExporter::export($metadata) . ";\n";
}
file_put_contents($outFile, $text);
"#;

pub struct SimpleSamlPhp {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// More `saml:SP` options (PHP), none by default.
    sp_options: String,
    dir: TempDir,
    daemon: Daemon,
}

impl SimpleSamlPhp {
    /// Writes the configuration and starts `php -S` on a free port.
    pub fn start() -> SimpleSamlPhp {
        SimpleSamlPhp::start_with("")
    }

    /// Like [`SimpleSamlPhp::start`], with more options for the `saml:SP` source (PHP array entries, such as
    /// `'sign.logout' => true,`).
    pub fn start_with(sp_options: &str) -> SimpleSamlPhp {
        check_installed();
        let dir = TempDir::new("simplesamlphp");
        let root = dir.path();
        for sub in ["config", "metadata", "log", "tmp", "data", "sessions", "docroot/app"] {
            fs::create_dir_all(root.join(sub)).expect("create a SimpleSAMLphp dir");
        }
        std::os::unix::fs::symlink(Path::new(SIMPLESAMLPHP).join("www"), root.join("docroot/simplesaml"))
            .expect("link SimpleSAMLphp's www");
        let pages = [
            ("index.php", APP_INDEX),
            ("login.php", APP_LOGIN),
            ("error.php", APP_ERROR),
            ("logout.php", APP_LOGOUT),
            ("status.php", APP_STATUS),
            ("probe.txt", "ssp-up"),
        ];
        for (name, text) in pages {
            fs::write(root.join("docroot/app").join(name), text).expect("write an app page");
        }
        fs::write(root.join("convert.php"), CONVERT).expect("write the converter");
        // A key pair and an X.509 version 1 certificate (no extensions), as several SP tools make.
        let openssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(root));
        openssl(&["genrsa", "-out", "sp.key", "2048"]);
        openssl(&["req", "-new", "-key", "sp.key", "-subj", "/CN=tiepdan.danang.gov.vn", "-out", "sp.csr"]);
        openssl(&["x509", "-req", "-in", "sp.csr", "-signkey", "sp.key", "-days", "365", "-out", "sp.crt"]);
        let text = openssl(&["x509", "-in", "sp.crt", "-noout", "-text"]);
        assert!(text.contains("Version: 1 (0x0)"), "openssl made another version:\n{text}");

        let daemon = Daemon::new("simplesamlphp (php -S)", root.join("php-server.log"));
        let mut sp = SimpleSamlPhp { url: String::new(), sp_options: sp_options.to_owned(), dir, daemon };
        for _ in 0..PORT_ATTEMPTS {
            let port = super::free_port();
            sp.url = format!("http://127.0.0.1:{port}");
            sp.write_config(None);
            if sp.spawn(port) == Startup::Ready {
                return sp;
            }
        }
        panic!("php -S: {PORT_ATTEMPTS} ports in a row were taken by other processes");
    }

    /// The SP's entity ID: its own metadata URL, where it publishes its metadata.
    pub fn metadata_url(&self) -> String {
        format!("{}/simplesaml/module.php/saml/sp/metadata.php/default-sp", self.url)
    }

    /// The protected page.
    pub fn app_url(&self) -> String {
        format!("{}/app/", self.url)
    }

    /// The app's sign-in link with SAML options: `force` (ForceAuthn), `passive` (IsPassive) or `mfa`.
    pub fn login_url(&self, option: &str) -> String {
        format!("{}/app/login.php?{option}", self.url)
    }

    /// The app's sign-out link (`$as->logout(…/app/status.php)`).
    pub fn logout_url(&self) -> String {
        format!("{}/app/logout.php", self.url)
    }

    /// The app's "am I signed in" page.
    pub fn status_url(&self) -> String {
        format!("{}/app/status.php", self.url)
    }

    /// A private dir for the test's own files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Converts the IdP's metadata with SimpleSAMLphp's own parser into `metadata/saml20-idp-remote.php` and
    /// makes `idp_entity_id` the SP's IdP. Returns the converted PHP, as the admin page shows it.
    pub fn trust_idp(&self, idp_entity_id: &str, metadata_xml: &str) -> String {
        let xml = self.dir.path().join("idp-metadata.xml");
        fs::write(&xml, metadata_xml).expect("write the IdP metadata");
        let out = self.dir.path().join("metadata/saml20-idp-remote.php");
        let mut php = Command::new("php");
        php.env("SIMPLESAMLPHP_CONFIG_DIR", self.dir.path().join("config"));
        run(php.arg(self.dir.path().join("convert.php")).arg(&xml).arg(&out));
        self.write_config(Some(idp_entity_id));
        fs::read_to_string(out).expect("the converted metadata")
    }

    /// What SimpleSAMLphp logged (its own log file, then the web server's).
    pub fn logs(&self) -> String {
        let own = fs::read_to_string(self.dir.path().join("log/simplesamlphp.log")).unwrap_or_default();
        format!("--- simplesamlphp.log ---\n{own}\n--- php -S ---\n{}", self.daemon.output())
    }

    fn write_config(&self, idp: Option<&str>) {
        let root = self.dir.path();
        let path = |sub: &str| php_string(&format!("{}/", root.join(sub).display()));
        let config = format!(
            r#"<?php
$config = [
    'baseurlpath' => {base},
    'certdir' => {certdir},
    'loggingdir' => {log},
    'datadir' => {data},
    'tempdir' => {tmp},
    'metadatadir' => {metadata},
    'attributenamemapdir' => '/etc/simplesamlphp/attributemap/',
    'technicalcontact_name' => 'Tiếp dân',
    'technicalcontact_email' => 'tiepdan@danang.gov.vn',
    'secretsalt' => 'the-interop-test-salt-0123456789abcdef',
    'auth.adminpassword' => 'the-interop-test-admin',
    'timezone' => 'Asia/Ho_Chi_Minh',
    'logging.level' => \SimpleSAML\Logger::DEBUG,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'store.type' => 'phpsession',
    'module.enable' => ['core' => true, 'saml' => true, 'admin' => true],
];
"#,
            base = php_string(&format!("{}/simplesaml/", self.url)),
            certdir = php_string(&format!("{}/", root.display())),
            log = path("log"),
            data = path("data"),
            tmp = path("tmp"),
            metadata = path("metadata"),
        );
        fs::write(root.join("config/config.php"), config).expect("write config.php");
        // The SP as its documentation shows it; every other option (signing of logout messages included) is
        // left at its default unless the test asks for more.
        let authsources = format!(
            r#"<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'default-sp' => [
        'saml:SP',
        'entityID' => {entity},
        'idp' => {idp},
        'privatekey' => 'sp.key',
        'certificate' => 'sp.crt',
        {options}
    ],
];
"#,
            entity = php_string(&self.metadata_url()),
            idp = idp.map(php_string).unwrap_or_else(|| "null".into()),
            options = self.sp_options,
        );
        fs::write(root.join("config/authsources.php"), authsources).expect("write authsources.php");
    }

    fn spawn(&mut self, port: u16) -> Startup {
        let root = self.dir.path();
        let mut command = Command::new("php");
        command.env("SIMPLESAMLPHP_CONFIG_DIR", root.join("config"));
        command.arg("-d").arg(format!("session.save_path={}", root.join("sessions").display()));
        command.args(["-d", "display_errors=stderr", "-d", "log_errors=On"]);
        command.arg("-S").arg(format!("127.0.0.1:{port}")).arg("-t").arg(root.join("docroot"));
        self.daemon.start(&mut command, || probe(port))
    }
}

/// The app's probe file answers: the server is ours and serving our docroot.
fn probe(port: u16) -> bool {
    let answer = || -> std::io::Result<String> {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut stream = TcpStream::connect_timeout(&address, PROBE_TIMEOUT)?;
        stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
        stream.write_all(b"GET /app/probe.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut text = String::new();
        stream.read_to_string(&mut text)?;
        Ok(text)
    };
    answer().is_ok_and(|text| text.ends_with("ssp-up"))
}

/// A PHP single-quoted string literal.
fn php_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Panics with how to install SimpleSAMLphp and PHP (with its DOM extension) when either is missing.
fn check_installed() {
    let autoload = PathBuf::from(SIMPLESAMLPHP).join("lib/_autoload.php");
    assert!(autoload.is_file(), "SimpleSAMLphp is not installed ({} is missing): {INSTALL}", autoload.display());
    let php = Command::new("php")
        .args(["-r", "exit(extension_loaded('dom') && extension_loaded('openssl') ? 0 : 3);"])
        .output();
    match php {
        Err(e) => panic!("`php` cannot run ({e}): {INSTALL}"),
        Ok(out) if !out.status.success() => panic!("php lacks its DOM or OpenSSL extension: {INSTALL}"),
        Ok(_) => {}
    }
}

impl Drop for SimpleSamlPhp {
    fn drop(&mut self) {
        self.daemon.stop();
        if std::thread::panicking() {
            eprintln!("SimpleSAMLphp at {}:\n{}", self.url, self.logs());
        }
    }
}
