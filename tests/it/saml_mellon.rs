//! Interoperability with the lasso-based SP most Apache-hosted apps use: Debian's `libapache2-mod-auth-mellon`,
//! unmodified, in a throwaway Apache (tests/it/harness/apache.rs). Its keys and metadata are made by mellon's
//! own `mellon_create_metadata`, registered with `danang-sso saml sp-add` as an administrator would, and it
//! reads our metadata from `/saml/metadata`. A browser (cookies kept, redirects followed) goes from a protected
//! CGI page through our sign-in form and back, walks into an OIDC app without the form, and signs out through
//! mellon's own logout endpoint with mellon's default signing.

use std::path::{Path, PathBuf};
use std::process::Command;

use danang_sso::config::saml::ServiceProviderConfig;
use openidconnect::TokenResponse;

use crate::app::{TestApp, http, test_config};
use crate::browser::{Browser, PASSWORD, Page};
use crate::harness::Apache;
use crate::listener::Listener;
use crate::rp::{Rp, payload};
use crate::saml_sp::form_post;

/// The app behind mellon: prints what Apache hands a CGI program (the user and every `MELLON_` variable).
const APP: &str = "#!/bin/sh\n\
    printf 'Content-Type: text/plain; charset=utf-8\\r\\n\\r\\n'\n\
    echo \"REMOTE_USER=$REMOTE_USER\"\n\
    env | grep '^MELLON_' | LC_ALL=C sort\n";

/// The SAML names of the attributes, as mellon names its variables after them.
const MAIL: &str = "urn:oid:0.9.2342.19200300.100.1.3";
const DISPLAY_NAME: &str = "urn:oid:2.16.840.1.113730.3.1.241";

/// The site: mellon's endpoints under `/mellon`; the app at `/app` as configured by mellon's defaults plus the
/// `MellonUser` line `sp-add` advises; the same app at `/short` with mellon's variables renamed by `MellonSetEnv`.
fn site(apache: &Apache, sp: &MellonFiles, idp_metadata: &Path, mellon_user: &str) -> String {
    let dir = apache.dir().display();
    format!(
        r#"ScriptAlias /app "{dir}/htdocs/app.cgi"
ScriptAlias /short "{dir}/htdocs/app.cgi"
MellonLockFile "{dir}/run/mellon.lock"
<Location />
    MellonEndpointPath /mellon
    MellonSPPrivateKeyFile "{key}"
    MellonSPCertFile "{cert}"
    MellonSPMetadataFile "{xml}"
    MellonIdPMetadataFile "{idp}"
    Require all granted
</Location>
<Location /app>
    AuthType Mellon
    MellonEnable auth
    {mellon_user}
    Require valid-user
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
struct MellonFiles {
    entity_id: String,
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
    std::fs::create_dir_all(dir).unwrap();
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
async fn follow(browser: &mut Browser, url: &str) -> (Vec<String>, Page) {
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
async fn submit(browser: &mut Browser, page: &Page) -> (Vec<String>, Page) {
    let (action, fields) = form_post(page);
    let answer = browser.post_form(&action, &fields).await;
    assert!(answer.status.is_redirection(), "{action} answered {}: {}", answer.status, answer.body);
    let next = url::Url::parse(&action).unwrap().join(answer.location.as_deref().unwrap()).unwrap();
    let (mut visited, page) = follow(browser, next.as_str()).await;
    visited.insert(0, action);
    (visited, page)
}

/// `NAME=value` lines of the app's page.
fn var<'a>(page: &'a Page, name: &str) -> Option<&'a str> {
    page.body.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix('='))
}

#[tokio::test]
async fn mod_auth_mellon_signs_in_walks_into_an_oidc_app_and_logs_out_everywhere() {
    let mut apache = Apache::new();
    let sp = mellon_create_metadata(&apache.dir().join("mellon"), &apache.url);

    // The IdP's administrator registers mellon's metadata, unmodified.
    let (entry, notes) = sp_add(&sp.metadata, "Văn bản (mellon)", &apache.dir().join("idp-sps.toml"));
    assert_eq!(entry.entity_id, sp.entity_id);
    assert_eq!(entry.acs_urls, [format!("{}/mellon/postResponse", apache.url)]);
    assert_eq!(entry.slo_url.as_deref(), Some(format!("{}/mellon/logout", apache.url).as_str()));
    assert!(notes.contains("lists no NameIDFormat"), "{notes}");
    let mellon_user = notes.lines().find_map(|l| Some(format!("MellonUser {}", l.split_once("MellonUser ")?.1)));
    let mellon_user =
        mellon_user.unwrap_or_else(|| panic!("sp-add says how to make the mailbox mellon's user: {notes}"));
    assert!(!notes.contains("warning:"), "nothing the IdP would refuse: {notes}");

    let mut listener = Listener::start().await;
    let mut config = test_config();
    config.saml.service_providers = vec![entry];
    let backchannel = format!("{}/bc/portal", listener.url);
    config.clients.iter_mut().filter(|c| c.client_id == "portal").for_each(|c| {
        c.backchannel_logout_uri = Some(backchannel.clone());
    });
    let app = TestApp::start_with(config).await;

    // mellon's administrator fetches our metadata.
    let idp_metadata = apache.dir().join("mellon/idp-metadata.xml");
    let metadata = http().get(format!("{}/saml/metadata", app.url)).send().await.unwrap();
    assert_eq!(metadata.status(), 200);
    std::fs::write(&idp_metadata, metadata.text().await.unwrap()).unwrap();
    apache.cgi("app.cgi", APP);
    let site = site(&apache, &sp, &idp_metadata, &mellon_user);
    apache.start(&site);

    // The protected page sends the browser to mellon's login, which sends a signed AuthnRequest to us.
    let mut browser = Browser::new();
    let protected = format!("{}/app", apache.url);
    let (visited, form) = follow(&mut browser, &protected).await;
    assert!(visited[1].starts_with(&format!("{}/mellon/login?ReturnTo=", apache.url)), "{visited:?}");
    let sso = visited.last().unwrap();
    assert!(sso.starts_with(&format!("{}/saml/sso?SAMLRequest=", app.url)), "{visited:?}");
    assert!(sso.contains("&Signature="), "mellon signs its AuthnRequest: {sso}");
    assert!(form.is_login_form(), "our sign-in form: {} {}", form.status, form.body);
    assert!(form.body.contains("Văn bản (mellon)"), "the form names the app");

    // The form, posted as a person would (with its anti-forgery value), then the Response to mellon's ACS.
    let posted = browser.sign_in(&app.url, &form, "dungnv", PASSWORD).await;
    let (visited, page) = submit(&mut browser, &posted).await;
    assert_eq!(visited[0], format!("{}/mellon/postResponse", apache.url));
    assert_eq!(visited.last().unwrap(), &protected, "mellon returns to the page asked for");
    assert_eq!(page.status, 200, "{}", page.body);
    // What the app sees (Apache's CGI environment makes every `:` and `.` of a SAML name `_`).
    let sees = |name: &str| var(&page, name).unwrap_or_else(|| panic!("no {name}: {}", page.body));
    assert_eq!(sees("REMOTE_USER"), "dungnv@danang.gov.vn", "sp-add's MellonUser advice works");
    let name_id = sees("MELLON_NAME_ID");
    assert!(name_id.len() >= 40 && !name_id.contains("dungnv"), "a transient NameID: {name_id}");
    assert_eq!(sees("MELLON_urn_oid_0_9_2342_19200300_100_1_3"), "dungnv@danang.gov.vn");
    assert_eq!(sees("MELLON_urn_oid_2_16_840_1_113730_3_1_241"), "Nguyễn Văn Dũng");
    assert_eq!(sees("MELLON_urn_oid_2_5_4_42"), "Dũng");
    assert_eq!(sees("MELLON_urn_oid_2_5_4_4"), "Nguyễn");
    assert_eq!(sees("MELLON_urn_oid_2_5_4_11"), "Văn phòng UBND thành phố");
    assert_eq!(
        (sees("MELLON_urn_oid_1_3_6_1_4_1_5923_1_5_1_1_0"), sees("MELLON_urn_oid_1_3_6_1_4_1_5923_1_5_1_1_1")),
        ("can-bo", "lanh-dao"),
        "one variable per group"
    );
    let (_, short) = follow(&mut browser, &format!("{}/short", apache.url)).await;
    assert_eq!(var(&short, "MELLON_mail"), Some("dungnv@danang.gov.vn"), "{}", short.body);
    assert_eq!(var(&short, "MELLON_displayName"), Some("Nguyễn Văn Dũng"), "{}", short.body);

    // The same browser walks into an OIDC app without the form, in the same SSO session.
    let portal = Rp::demo(&app.url, "portal").await;
    let pending = portal.start(&[], &[]);
    let redirect = browser.get(&pending.url).await;
    assert_eq!(redirect.status, 303, "no form for the OIDC app: {}", redirect.body);
    let tokens = portal.exchange(pending, &redirect).await;
    let sid = payload(&tokens.id_token().unwrap().to_string())["sid"].as_str().unwrap().to_owned();

    // Single logout from mellon's own endpoint: a signed LogoutRequest to us, then our LogoutResponse back.
    let logout = format!("{}/mellon/logout?ReturnTo=/signed-out", apache.url);
    let (visited, _) = follow(&mut browser, &logout).await;
    let slo = visited.iter().find(|u| u.starts_with(&format!("{}/saml/slo?SAMLRequest=", app.url)));
    assert!(slo.is_some_and(|u| u.contains("&Signature=")), "a signed LogoutRequest: {visited:?}");
    assert!(
        visited.iter().any(|u| u.starts_with(&format!("{}/mellon/logout?SAMLResponse=", apache.url))),
        "our LogoutResponse goes back to mellon: {visited:?}"
    );
    assert_eq!(visited.last().unwrap(), &format!("{}/signed-out", apache.url), "mellon's ReturnTo: {visited:?}");
    assert!(!browser.has_session(), "our session cookie is cleared");

    // The OIDC app hears of it on its back channel, and our session is gone.
    let (name, token) = listener.next().await;
    assert_eq!(name, "portal");
    assert_eq!(payload(&token)["sid"], sid.as_str());
    let pending = portal.start(&[], &[("prompt", "none")]);
    assert_eq!(browser.get(&pending.url).await.redirect_param("error").as_deref(), Some("login_required"));
    app.wait_for_audit(1, |l| l["event"] == "logout" && l["client"] == sp.entity_id.as_str()).await;

    // The protected page asks for a sign-in again.
    let (visited, page) = follow(&mut browser, &protected).await;
    assert!(visited.last().unwrap().starts_with(&format!("{}/saml/sso?", app.url)), "{visited:?}");
    assert!(page.is_login_form(), "{}", page.body);
}
