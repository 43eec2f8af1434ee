//! Searching the audit trail: the JSON lines of `[audit] path` and its rotated files, newest first, filtered by
//! account, event, app and time range, one page at a time (the console's audit search and overview).
//!
//! Files are read backwards in blocks of [`BLOCK`] bytes, so a search holds one block and one page in memory
//! however many gigabytes the trail has grown to, and stops as soon as it has a page (or has passed the range).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::calendar::parse_rfc3339_utc;

/// How many bytes are read from the end at a time.
pub const BLOCK: usize = 64 * 1024;
/// Lines are written up to a few milliseconds late and several instances may share a file, so lines are
/// only roughly in time order: a search passes this far beyond the start of its range before it stops.
const SLACK_SECS: u64 = 300;

/// One audit line, as the console shows it (unknown fields ignored, absent ones empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Entry {
    pub time: String,
    pub instance: String,
    pub event: String,
    pub account: Option<String>,
    pub client: Option<String>,
    pub sid: Option<String>,
    pub grant_type: Option<String>,
    pub reason: Option<String>,
    pub operator: Option<String>,
    pub note: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What to look for; every field left `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The mailbox (exact, case-insensitive).
    pub account: Option<String>,
    pub event: Option<String>,
    /// The app: an OIDC `client_id` or a SAML entity id.
    pub client: Option<String>,
    /// Unix seconds, included.
    pub from: Option<u64>,
    /// Unix seconds, excluded.
    pub to: Option<u64>,
}

impl Query {
    /// Whether `entry`, written at `at`, is one the query asks for.
    pub fn matches(&self, entry: &Entry, at: u64) -> bool {
        let same = |want: &Option<String>, have: &Option<String>| {
            want.as_deref().is_none_or(|w| have.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(w)))
        };
        same(&self.account, &entry.account)
            && self.event.as_deref().is_none_or(|e| e == entry.event)
            && same(&self.client, &entry.client)
            && self.from.is_none_or(|from| at >= from)
            && self.to.is_none_or(|to| at < to)
    }
}

/// One page of results, newest first.
#[derive(Debug, Default)]
pub struct Page {
    pub entries: Vec<Entry>,
    /// Whether more matching lines follow this page.
    pub more: bool,
    /// Lines that were not audit JSON (skipped).
    pub unreadable: usize,
}

/// The audit file and its rotated copies (`audit.jsonl.1`, `audit.jsonl-20261201`…, compressed ones left out),
/// newest first: the live file, then the others by modification time.
pub fn files(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return vec![path.to_path_buf()];
    };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let mut rotated: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.file_name().to_str()?.to_owned();
            let rest = file.strip_prefix(name)?;
            let is_rotated = (rest.starts_with('.') || rest.starts_with('-')) && !rest.ends_with(".gz");
            is_rotated.then(|| Some((e.metadata().ok()?.modified().ok()?, e.path())))?
        })
        .collect();
    rotated.sort_by_key(|e| std::cmp::Reverse(e.0));
    std::iter::once(path.to_path_buf()).chain(rotated.into_iter().map(|(_, p)| p)).collect()
}

/// Skips `offset` matching lines, then returns up to `limit`, newest first, from `files` (newest file first).
pub fn search(files: &[PathBuf], query: &Query, offset: usize, limit: usize) -> std::io::Result<Page> {
    let mut page = Page::default();
    let mut skipped = 0;
    for path in files {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for line in ReverseLines::new(file)? {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let Some((entry, at)) = parse(&line) else {
                page.unreadable += 1;
                continue;
            };
            if query.from.is_some_and(|from| at + SLACK_SECS < from) {
                break;
            }
            if !query.matches(&entry, at) {
                continue;
            }
            if skipped < offset {
                skipped += 1;
            } else if page.entries.len() < limit {
                page.entries.push(entry);
            } else {
                page.more = true;
                return Ok(page);
            }
        }
    }
    Ok(page)
}

/// Calls `each` on every line of the range, newest first (for counts over the last hours).
pub fn scan(files: &[PathBuf], query: &Query, mut each: impl FnMut(&Entry, u64)) -> std::io::Result<()> {
    for path in files {
        let Ok(file) = File::open(path) else { continue };
        for line in ReverseLines::new(file)? {
            let Some((entry, at)) = parse(&line?) else { continue };
            if query.from.is_some_and(|from| at + SLACK_SECS < from) {
                return Ok(());
            }
            if query.matches(&entry, at) {
                each(&entry, at);
            }
        }
    }
    Ok(())
}

fn parse(line: &str) -> Option<(Entry, u64)> {
    let entry: Entry = serde_json::from_str(line).ok()?;
    let at = parse_rfc3339_utc(&entry.time)?;
    (!entry.event.is_empty()).then_some((entry, at))
}

/// The lines of a file from the last to the first, reading [`BLOCK`] bytes at a time from the end.
pub struct ReverseLines<R> {
    reader: R,
    /// Bytes not read yet: `0..position`.
    position: u64,
    /// Read but not yet returned: the start of a line whose beginning is in an earlier block.
    pending: Vec<u8>,
    lines: Vec<String>,
}

impl<R: Read + Seek> ReverseLines<R> {
    pub fn new(mut reader: R) -> std::io::Result<Self> {
        let position = reader.seek(SeekFrom::End(0))?;
        Ok(ReverseLines { reader, position, pending: Vec::new(), lines: Vec::new() })
    }

    /// Reads the block before `position`, turning every complete line in it into `lines`.
    fn fill(&mut self) -> std::io::Result<()> {
        let size = (BLOCK as u64).min(self.position);
        self.position -= size;
        self.reader.seek(SeekFrom::Start(self.position))?;
        let mut block = vec![0; size as usize];
        self.reader.read_exact(&mut block)?;
        block.extend_from_slice(&self.pending);
        let mut parts = block.split(|b| *b == b'\n');
        let first = parts.next().unwrap_or_default().to_vec();
        // In file order, so `pop` returns the newest first.
        self.lines = parts.map(|l| String::from_utf8_lossy(l).into_owned()).collect();
        self.pending = first;
        if self.position == 0 {
            self.lines.insert(0, String::from_utf8_lossy(&std::mem::take(&mut self.pending)).into_owned());
        }
        Ok(())
    }
}

impl<R: Read + Seek> Iterator for ReverseLines<R> {
    type Item = std::io::Result<String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(line) = self.lines.pop() {
                return Some(Ok(line));
            }
            if self.position == 0 {
                return None;
            }
            if let Err(e) = self.fill() {
                self.position = 0;
                return Some(Err(e));
            }
        }
    }
}

#[cfg(test)]
mod tests;
