//! The usage report the Department of Information and Communications asks for: sign-ins and distinct accounts
//! per unit and per app over a period, read from the audit trail (`[audit] output = "file"`).
//!
//! What it counts, for days from `from` to `to` inclusive, in Vietnam time:
//! - **sign-ins**: `sign_in_success` lines: a person typed the right password. Per app, the app that asked.
//! - **app entries**: `token_issued` lines with `grant_type` `authorization_code`: an app let a person in, with
//!   the password or through single sign-on. Refreshes and service tokens are not entries.
//! - **active accounts**: distinct accounts with at least one sign-in or app entry.
//! - **directory accounts** (per unit): the unit's accounts in the directory now, so a unit that used nothing
//!   still shows, with zeros. An account's unit is its unit in the directory *now*.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::path::PathBuf;

use askama::Template;
use serde::Deserialize;

use crate::calendar::{Day, parse_rfc3339_utc};
use crate::csv;
use crate::directory::{Directory, User};
use crate::oidc::clients::Clients;
use crate::policy::Policy;
use crate::policy::mailbox::fold;
use crate::report::ReportError;

/// Shown for an active account the directory no longer lists (removed or disabled since).
pub const NOT_IN_DIRECTORY: &str = "(không còn trong danh bạ)";
/// Shown for an account whose directory entry names no unit.
pub const NO_UNIT: &str = "(chưa ghi đơn vị)";

/// Days from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Day,
    pub to: Day,
}

impl Period {
    /// Parses two `YYYY-MM-DD` dates.
    pub fn parse(from: &str, to: &str) -> Result<Period, ReportError> {
        let day = |s: &str| Day::parse(s).ok_or_else(|| ReportError::Invalid(format!("{s}: not a date YYYY-MM-DD")));
        let (from, to) = (day(from)?, day(to)?);
        if from > to {
            return Err(ReportError::Invalid(format!("the period ends ({to}) before it starts ({from})")));
        }
        Ok(Period { from, to })
    }

    fn contains(&self, unix: u64) -> bool {
        (self.from..=self.to).contains(&Day::of_unix(unix))
    }
}

/// What the audit trail says, per (account, client): (sign-ins, app entries). Small whatever the file size.
#[derive(Debug, Default)]
pub struct Activity {
    counts: HashMap<(String, String), (u64, u64)>,
    /// Lines naming a counted event that could not be read (a line cut short by a crash).
    pub unreadable_lines: u64,
}

#[derive(Deserialize)]
struct Line {
    time: String,
    event: String,
    account: Option<String>,
    client: Option<String>,
    grant_type: Option<String>,
}

impl Activity {
    /// Adds the counted events of one audit file that fall in `period`.
    pub fn read(&mut self, input: impl BufRead, period: Period) -> std::io::Result<()> {
        for line in input.split(b'\n') {
            let line = line?;
            let text = String::from_utf8_lossy(&line);
            if !text.contains("\"sign_in_success\"") && !text.contains("\"token_issued\"") {
                continue;
            }
            let Some(line) = serde_json::from_str::<Line>(&text).ok() else {
                self.unreadable_lines += 1;
                continue;
            };
            let Some(at) = parse_rfc3339_utc(&line.time) else {
                self.unreadable_lines += 1;
                continue;
            };
            let (Some(account), true) = (line.account, period.contains(at)) else { continue };
            let key = (account.to_lowercase(), line.client.unwrap_or_default());
            match (line.event.as_str(), line.grant_type.as_deref()) {
                ("sign_in_success", _) => self.counts.entry(key).or_default().0 += 1,
                ("token_issued", Some("authorization_code")) => self.counts.entry(key).or_default().1 += 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads every file in turn (several instances' trails, or rotated files).
    pub fn read_files(paths: &[PathBuf], period: Period) -> Result<Activity, ReportError> {
        let mut activity = Activity::default();
        for path in paths {
            let file = std::fs::File::open(path)
                .map_err(|e| ReportError::Invalid(format!("audit file {}: {e}", path.display())))?;
            activity
                .read(std::io::BufReader::new(file), period)
                .map_err(|e| ReportError::Invalid(format!("audit file {}: {e}", path.display())))?;
        }
        Ok(activity)
    }
}

/// One row of the report: a unit, an app, or the total.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    /// The app's `client_id` (empty for units and the total).
    pub client_id: String,
    pub sign_ins: u64,
    pub app_entries: u64,
    pub active_accounts: usize,
    /// Accounts of the unit in the directory now (units and the total only).
    pub directory_accounts: Option<usize>,
}

/// The finished report.
#[derive(Debug, Clone)]
pub struct UsageReport {
    pub period: Period,
    /// Every unit of the directory (and the odd rows: no unit, not in the directory), by name.
    pub units: Vec<Row>,
    /// Every app that signs people in (authorization code), by name, plus any other the trail names.
    pub apps: Vec<Row>,
    pub total: Row,
    /// Audit lines of a counted event that could not be read (see [`Activity::unreadable_lines`]).
    pub unreadable_lines: u64,
}

#[derive(Default)]
struct Tally {
    sign_ins: u64,
    app_entries: u64,
    accounts: HashSet<String>,
    directory_accounts: usize,
}

impl Tally {
    fn add(&mut self, account: &str, (sign_ins, app_entries): (u64, u64)) {
        self.sign_ins += sign_ins;
        self.app_entries += app_entries;
        self.accounts.insert(account.to_owned());
    }

    fn row(self, name: String, client_id: String, directory: bool) -> Row {
        Row {
            name,
            client_id,
            sign_ins: self.sign_ins,
            app_entries: self.app_entries,
            active_accounts: self.accounts.len(),
            directory_accounts: directory.then_some(self.directory_accounts),
        }
    }
}

/// Groups `activity` by unit (from `users`, the directory's accounts) and by app (named from `clients`).
pub fn summarize(activity: &Activity, users: &[User], clients: &Clients, period: Period) -> UsageReport {
    let unit_of: HashMap<&str, &str> =
        users.iter().map(|u| (u.mail.as_str(), u.unit.as_deref().unwrap_or(NO_UNIT))).collect();
    let mut units: BTreeMap<String, Tally> = BTreeMap::new();
    for user in users {
        units.entry(unit_of[user.mail.as_str()].to_owned()).or_default().directory_accounts += 1;
    }
    let mut apps: BTreeMap<String, Tally> = BTreeMap::new();
    for client in clients.all().filter(|c| c.allows_grant("authorization_code")) {
        apps.entry(client.id.clone()).or_default();
    }
    let mut total = Tally { directory_accounts: users.len(), ..Tally::default() };
    for ((account, client), counts) in &activity.counts {
        let unit = unit_of.get(account.as_str()).copied().unwrap_or(NOT_IN_DIRECTORY);
        units.entry(unit.to_owned()).or_default().add(account, *counts);
        apps.entry(client.clone()).or_default().add(account, *counts);
        total.add(account, *counts);
    }
    let mut units: Vec<Row> = units.into_iter().map(|(name, t)| t.row(name, String::new(), true)).collect();
    units.sort_by_cached_key(|r| (r.name.starts_with('('), fold(&r.name)));
    let name_of = |id: &str| clients.get(id).map(|c| c.name.clone()).filter(|n| !n.is_empty());
    let mut apps: Vec<Row> =
        apps.into_iter().map(|(id, t)| t.row(name_of(&id).unwrap_or_else(|| id.clone()), id, false)).collect();
    apps.sort_by_cached_key(|r| fold(&r.name));
    UsageReport {
        period,
        units,
        apps,
        total: total.row("Tổng cộng".into(), String::new(), true),
        unreadable_lines: activity.unreadable_lines,
    }
}

/// Reads the audit files (on the blocking pool: they may be large) and the directory's accounts of the allowed
/// domains, and makes the report.
pub async fn run(
    directory: &dyn Directory,
    policy: &Policy,
    clients: &Clients,
    files: Vec<PathBuf>,
    period: Period,
) -> Result<UsageReport, ReportError> {
    let users: Vec<User> = directory.list().await?.into_iter().filter(|u| policy.allows(&u.mail)).collect();
    let activity = tokio::task::spawn_blocking(move || Activity::read_files(&files, period))
        .await
        .map_err(|e| ReportError::Invalid(format!("reading the audit trail stopped: {e}")))??;
    Ok(summarize(&activity, &users, clients, period))
}

impl UsageReport {
    /// `section,name,client_id,sign_ins,app_entries,active_accounts,directory_accounts,from,to`; `section` is
    /// `unit`, `app` or `total`.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::for_excel();
        w.record([
            "section",
            "name",
            "client_id",
            "sign_ins",
            "app_entries",
            "active_accounts",
            "directory_accounts",
            "from",
            "to",
        ]);
        let (from, to) = (self.period.from.to_string(), self.period.to.to_string());
        let sections = self.units.iter().map(|r| ("unit", r)).chain(self.apps.iter().map(|r| ("app", r)));
        for (section, r) in sections.chain([("total", &self.total)]) {
            let directory = r.directory_accounts.map(|n| n.to_string()).unwrap_or_default();
            let (s, e, a) = (r.sign_ins.to_string(), r.app_entries.to_string(), r.active_accounts.to_string());
            w.record([section, &r.name, &r.client_id, &s, &e, &a, &directory, &from, &to]);
        }
        w.finish()
    }

    /// The printable page (Vietnamese); `stylesheet` is the URL of `report.css` (the service's, absolute, so a
    /// saved copy prints the same).
    pub fn to_html(&self, stylesheet: &str, generated_at: u64) -> String {
        let page = Page {
            r: self,
            stylesheet,
            from: self.period.from.vi(),
            to: self.period.to.vi(),
            generated: Day::of_unix(generated_at).vi(),
        };
        // Only strings and numbers: rendering cannot fail.
        page.render().unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "usage_report.html")]
struct Page<'a> {
    r: &'a UsageReport,
    stylesheet: &'a str,
    from: String,
    to: String,
    generated: String,
}

#[cfg(test)]
mod tests;
