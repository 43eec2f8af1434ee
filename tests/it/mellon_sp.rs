//! The lasso-based SP most Apache-hosted apps use, set up as its administrator would: Debian's
//! `libapache2-mod-auth-mellon`, unmodified, in a throwaway Apache (tests/it/harness/apache.rs), with keys and
//! metadata from mellon's own `mellon_create_metadata`, registered with `danang-sso saml sp-add`, reading our
//! metadata from `/saml/metadata`; behind it, a CGI app printing what mellon hands it. Plus a browser's way of
//! following redirects across the two servers. The tests are in saml_mellon.rs.

use std::path::{Path, PathBuf};
use std::process::Command;

use danang_sso::config::Config;
use danang_sso::config::saml::ServiceProviderConfig;

use crate::app::{TestApp, http, test_config};
use crate::browser::{Browser, PASSWORD, Page};
use crate::harness::Apache;
use crate::saml_sp::form_post;

/// The app behind mellon: prints what Apache hands a CGI program (the user and every `MELLON_` variable).
const APP: &str = "#!/bin/sh\n\
    printf 'Content-Type: text/plain; charset=utf-8\\r\\n\\r\\n'\n\
    echo \"REMOTE_USER=$REMOTE_USER\"\n\
    env | grep '^MELLON_' | LC_ALL=C sort\n";

/// The SAML names of the attributes, as mellon names its variables after them.
pub const MAIL: &str = "urn:oid:0.9.2342.19200300.100.1.3";
pub const DISPLAY_NAME: &str = "urn:oid:2.16.840.1.113730.3.1.241";

/// The site: mellon's endpoints under `/mellon`; the app at `/app` as configured by mellon's defaults plus the
/// `MellonUser` line `sp-add` advises; the same app at `/short` with mellon's variables renamed by `MellonSetEnv`,
/// and at `/public` for everyone (`MellonEnable info`: the user when there is a mellon session), where mellon
/// also sends a person whose sign-in did not succeed (`MellonNoSuccessErrorPage`; mellon's default is a 401).
fn site(apache: &Apache, sp: &MellonFiles, idp_metadata: &Path, mellon_user: &str) -> String {
    let dir = apache.dir().display();
    format!(
        r#"ScriptAlias /app "{dir}/htdocs/app.cgi"
ScriptAlias /short "{dir}/htdocs/app.cgi"
ScriptAlias /public "{dir}/htdocs/app.cgi"
MellonLockFile "{dir}/run/mellon.lock"
<Location />
    MellonEndpointPath /mellon
    MellonSPPrivateKeyFile "{key}"
    MellonSPCertFile "{cert}"
    MellonSPMetadataFile "{xml}"
    MellonIdPMetadataFile "{idp}"
    MellonNoSuccessErrorPage /public
    Require all granted
</Location>
<Location /app>
    AuthType Mellon
    MellonEnable auth
    {mellon_user}
    Require valid-user
</Location>
<Location /public>
    MellonEnable info
    {mellon_user}
</Location>
<Location /short>
    AuthType Mellon
    MellonEnable auth
    MellonSetEnv "mail" "{MAIL}"
    MellonSetEnv "displayName" "{DISPLAY_NAME}"
    Require valid-user
</Location>
"#,
        key = sp.key.display(),
        cert = sp.cert.display(),
        xml = sp.metadata.display(),
        idp = idp_metadata.display(),
    )
}

/// What `mellon_create_metadata ENTITY-ID ENDPOINT-URL` writes.
pub struct MellonFiles {
    pub entity_id: String,
    key: PathBuf,
    cert: PathBuf,
    metadata: PathBuf,
}

/// Runs mellon's own tool in `dir`, as its README says.
fn mellon_create_metadata(dir: &Path, base: &str) -> MellonFiles {
    let tool = ["/usr/sbin/mellon_create_metadata", "/usr/share/doc/libapache2-mod-auth-mellon/mellon_create_metadata"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .unwrap_or_else(|| panic!("mellon_create_metadata is missing: {}", Apache::INSTALL));
    let entity_id = format!("{base}/mellon/metadata");
    let out = Command::new(tool).arg(&entity_id).arg(format!("{base}/mellon")).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "mellon_create_metadata: {}", String::from_utf8_lossy(&out.stderr));
    // It names its files after the entity id (`http_127.0.0.1_PORT_mellon_metadata.key`, `.cert`, `.xml`).
    let file = |ext: &str| {
        let found =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension() == Some(ext.as_ref()));
        found.unwrap_or_else(|| {
            panic!("no .{ext} from mellon_create_metadata: {}", String::from_utf8_lossy(&out.stdout))
        })
    };
    MellonFiles { key: file("key"), cert: file("cert"), metadata: file("xml"), entity_id }
}

/// `danang-sso saml sp-add --metadata FILE --name NAME --output FILE`, the administrator's command: the entry it
/// appended, and what it told the administrator on stderr.
fn sp_add(metadata: &Path, name: &str, output: &Path) -> (ServiceProviderConfig, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_danang-sso"))
        .args(["saml", "sp-add", "--metadata"])
        .arg(metadata)
        .args(["--name", name, "--output"])
        .arg(output)
        .output()
        .unwrap();
    let notes = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "sp-add refused mellon's metadata: {notes}");
    #[derive(serde::Deserialize)]
    struct Saml {
        service_providers: Vec<ServiceProviderConfig>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        saml: Saml,
    }
    let file: File = toml::from_str(&std::fs::read_to_string(output).unwrap()).expect("sp-add wrote valid TOML");
    let [entry]: [ServiceProviderConfig; 1] = file.saml.service_providers.try_into().expect("one entry");
    (entry, notes)
}

/// Follows redirects as a browser does (relative locations against the current URL): every URL visited, and
/// the page that was not a redirect.
pub async fn follow(browser: &mut Browser, url: &str) -> (Vec<String>, Page) {
    let mut visited = vec![url.to_owned()];
    let mut page = browser.get(url).await;
    while page.status.is_redirection() {
        let here = url::Url::parse(visited.last().unwrap()).unwrap();
        let next = here.join(page.location.as_deref().expect("a Location")).unwrap().to_string();
        assert!(visited.len() < 12, "a redirect loop: {visited:?}");
        page = browser.get(&next).await;
        visited.push(next);
    }
    (visited, page)
}

/// Posts the IdP's auto-submitted form to the SP, as the page's script does, and follows where the SP sends
/// the browser.
pub async fn submit(browser: &mut Browser, page: &Page) -> (Vec<String>, Page) {
    let (action, fields) = form_post(page);
    let answer = browser.post_form(&action, &fields).await;
    assert!(answer.status.is_redirection(), "{action} answered {}: {}", answer.status, answer.body);
    let next = url::Url::parse(&action).unwrap().join(answer.location.as_deref().unwrap()).unwrap();
    let (mut visited, page) = follow(browser, next.as_str()).await;
    visited.insert(0, action);
    (visited, page)
}

/// `NAME=value` lines of the app's page.
pub fn var<'a>(page: &'a Page, name: &str) -> Option<&'a str> {
    page.body.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
}

/// mellon in Apache and the IdP it trusts, both running.
pub struct Mellon {
    /// `{apache}/app`, the page that needs a signed-in user.
    pub protected: String,
    pub sp: MellonFiles,
    /// The entry `sp-add` wrote, and what it told the administrator.
    pub entry: ServiceProviderConfig,
    pub notes: String,
    pub apache: Apache,
}

impl Mellon {
    /// mellon's files, `sp-add` into the IdP's config (tuned by `tune`), the IdP started, its metadata
    /// fetched for mellon, Apache started with the `MellonUser` line `sp-add` advises.
    pub async fn start(tune: impl FnOnce(&mut Config)) -> (Mellon, TestApp) {
        let mut apache = Apache::new();
        let sp = mellon_create_metadata(&apache.mkdir("mellon"), &apache.url);
        let (entry, notes) = sp_add(&sp.metadata, "Văn bản (mellon)", &apache.dir().join("idp-sps.toml"));
        let mellon_user = notes.lines().find_map(|l| Some(format!("MellonUser {}", l.split_once("MellonUser ")?.1)));
        let mellon_user =
            mellon_user.unwrap_or_else(|| panic!("sp-add says how to make the mailbox mellon's user: {notes}"));

        let mut config = test_config();
        config.saml.service_providers = vec![entry.clone()];
        tune(&mut config);
        let app = TestApp::start_with(config).await;

        let metadata = http().get(format!("{}/saml/metadata", app.url)).send().await.unwrap();
        assert_eq!(metadata.status(), 200);
        let idp_metadata = apache.write("mellon/idp-metadata.xml", &metadata.text().await.unwrap());
        apache.cgi("app.cgi", APP);
        let site = site(&apache, &sp, &idp_metadata, &mellon_user);
        apache.start(&site);
        let mellon = Mellon { protected: format!("{}/app", apache.url), sp, entry, notes, apache };
        (mellon, app)
    }

    /// `/mellon/login?ReturnTo=RETURN_TO&…`, mellon's own way for an app to ask for a sign-in (`&IsPassive=true`).
    pub fn login_url(&self, return_to: &str, extra: &str) -> String {
        let return_to: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
        format!("{}/mellon/login?ReturnTo={return_to}{extra}", self.apache.url)
    }

    /// The protected page, our sign-in form (unless the SSO session answers at once), and back: the app's page.
    pub async fn sign_in(&self, app: &TestApp, browser: &mut Browser) -> Page {
        let (_, mut posted) = follow(browser, &self.protected).await;
        if posted.is_login_form() {
            posted = browser.sign_in(&app.url, &posted, "dungnv", PASSWORD).await;
        }
        let (visited, page) = submit(browser, &posted).await;
        assert_eq!(visited.last(), Some(&self.protected), "back at the page asked for");
        assert_eq!(page.status, 200, "{}", page.body);
        page
    }
}
