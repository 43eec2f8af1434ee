//! A browser tab for journeys across sites (an SP and the IdP): on top of the test [`Browser`]'s cookie jar it
//! follows what a browser follows on its own — redirects, `<meta http-equiv="refresh">`, hidden front-channel
//! frames, and the forms a page's script submits on load (our `form_post.js`, SimpleSAMLphp's `post.js`) — and
//! stops at pages that need a person (the sign-in form, a confirmation). Cookies are kept per host, not per port,
//! as browsers do: every server here is on 127.0.0.1, so all of them see one jar, which `Browser` already models.

use reqwest::StatusCode;
use url::Url;

use crate::browser::{Browser, Page};
use crate::harness::unescape;

/// More hops than any journey here needs; a loop is a failure, not a hang.
const MAX_HOPS: usize = 25;

/// Where a tab ended up.
pub struct Landed {
    pub url: String,
    pub page: Page,
    /// Every URL requested on the way, in order (redirects, frames, auto-posted forms).
    pub trail: Vec<String>,
    /// Where the page sent the browser next when that is one of [`Tab::stop_at`] (not requested).
    pub left_for: Option<String>,
    /// Where each `<iframe>` on the way ended, and its status.
    pub frames: Vec<(String, StatusCode)>,
}

impl Landed {
    /// The hidden inputs of the page's first form.
    pub fn hidden_fields(&self) -> Vec<(String, String)> {
        form(&self.page.body).map(|f| f.fields).unwrap_or_default()
    }

    /// The page's first form's action, resolved against the page's URL.
    pub fn form_action(&self) -> String {
        let action = form(&self.page.body).expect("a form on the page").action;
        resolve(&self.url, &action)
    }

    /// The body as JSON (the app's own pages answer JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.page.body)
            .unwrap_or_else(|e| panic!("{} answered no JSON ({e}): {} {}", self.url, self.page.status, self.page.body))
    }
}

pub struct Tab {
    pub browser: Browser,
    /// URLs (prefixes) the tab does not request: apps that are not running here. Following stops before them,
    /// with [`Landed::left_for`] set.
    pub stop_at: Vec<String>,
}

impl Tab {
    pub fn new() -> Tab {
        Tab { browser: Browser::new(), stop_at: Vec::new() }
    }

    /// Opens `url` and follows everything a browser follows by itself.
    pub async fn open(&mut self, url: &str) -> Landed {
        let page = self.browser.get(url).await;
        self.follow(url.to_owned(), page, vec![url.to_owned()]).await
    }

    /// Submits the page's first form with its hidden fields plus `extra` (what the person typed or clicked).
    pub async fn submit(&mut self, landed: &Landed, extra: &[(&str, &str)]) -> Landed {
        let mut fields = landed.hidden_fields();
        fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let action = landed.form_action();
        let page = self.browser.post_form(&action, &fields).await;
        self.follow(action.clone(), page, vec![action]).await
    }

    async fn follow(&mut self, mut url: String, mut page: Page, mut trail: Vec<String>) -> Landed {
        let mut frames = Vec::new();
        for _ in 0..MAX_HOPS {
            let next = if page.status.is_redirection() {
                let location = page.location.as_deref().unwrap_or_else(|| panic!("{url}: a redirect without Location"));
                Some(Next::Get(resolve(&url, location)))
            } else if page.status == StatusCode::OK {
                frames.extend(self.load_frames(&url, &page, &mut trail).await);
                auto_posted(&page.body)
                    .map(|f| Next::Post(resolve(&url, &f.action), f.fields))
                    .or_else(|| refresh(&page.body).map(|to| Next::Get(resolve(&url, &to))))
            } else {
                None
            };
            let Some(next) = next else {
                return Landed { url, page, trail, left_for: None, frames };
            };
            let (Next::Get(target) | Next::Post(target, _)) = &next;
            if self.stop_at.iter().any(|prefix| target.starts_with(prefix)) {
                return Landed { url, page, trail, left_for: Some(target.clone()), frames };
            }
            match next {
                Next::Get(to) => {
                    page = self.browser.get(&to).await;
                    url = to;
                }
                Next::Post(to, fields) => {
                    page = self.browser.post_form(&to, &fields).await;
                    url = to;
                }
            }
            trail.push(url.clone());
        }
        panic!("more than {MAX_HOPS} hops: {trail:#?}");
    }

    /// Loads a page's `<iframe>`s (front-channel logout frames) as a browser does, following their redirects.
    /// Returns where each frame ended and its status.
    async fn load_frames(&mut self, url: &str, page: &Page, trail: &mut Vec<String>) -> Vec<(String, StatusCode)> {
        let mut ended = Vec::new();
        for src in attribute_values(&page.body, "<iframe", "src") {
            let mut to = resolve(url, &src);
            for _ in 0..MAX_HOPS {
                trail.push(to.clone());
                let frame = self.browser.get(&to).await;
                match frame.location.as_deref() {
                    Some(location) if frame.status.is_redirection() => to = resolve(&to, location),
                    _ => {
                        ended.push((to, frame.status));
                        break;
                    }
                }
            }
        }
        ended
    }
}

enum Next {
    Get(String),
    Post(String, Vec<(String, String)>),
}

struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

/// The page's first POST form, when the page's script submits it on load.
fn auto_posted(body: &str) -> Option<Form> {
    let scripted = ["/static/form_post.js", "/js/post.js"].iter().any(|s| body.contains(s));
    scripted.then(|| form(body)).flatten()
}

/// The first `<form>` and its hidden inputs.
fn form(body: &str) -> Option<Form> {
    let start = body.find("<form")?;
    let rest = &body[start..];
    let end = rest.find("</form>").unwrap_or(rest.len());
    let html = &rest[..end];
    let tag = &html[..html.find('>')?];
    let action = attribute(tag, "action").unwrap_or_default();
    let fields = html
        .split("<input")
        .skip(1)
        .filter_map(|input| {
            let tag = &input[..input.find('>')?];
            (attribute(tag, "type").as_deref() == Some("hidden"))
                .then(|| Some((attribute(tag, "name")?, attribute(tag, "value").unwrap_or_default())))
                .flatten()
        })
        .collect();
    Some(Form { action, fields })
}

/// The target of `<meta http-equiv="refresh" content="N;url=…">`.
fn refresh(body: &str) -> Option<String> {
    let meta = body.split("<meta").skip(1).find(|m| m.to_ascii_lowercase().contains("http-equiv=\"refresh\""))?;
    let content = attribute(&meta[..meta.find('>')?], "content")?;
    let (_, url) = content.split_once(['u', 'U']).and_then(|(_, rest)| rest.split_once('='))?;
    Some(url.trim().trim_matches(['\'', '"']).to_owned())
}

/// `name="value"` of one tag, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let from = tag.find(&needle)? + needle.len();
    let len = tag[from..].find('"')?;
    Some(unescape(&tag[from..from + len]))
}

/// `name` of every `tag` in `body`.
fn attribute_values(body: &str, tag: &str, name: &str) -> Vec<String> {
    body.split(tag).skip(1).filter_map(|rest| attribute(&rest[..rest.find('>')?], name)).collect()
}

fn resolve(base: &str, reference: &str) -> String {
    Url::parse(base).and_then(|b| b.join(reference)).unwrap_or_else(|e| panic!("{reference} from {base}: {e}")).into()
}

#[test]
fn character_references_are_decoded() {
    assert_eq!(unescape("a&amp;b&#43;c&#x3D;&quot;&#039;&nbsp;&"), "a&b+c=\"'&nbsp;&");
}
