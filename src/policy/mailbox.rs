//! How the city names mailboxes (Quyết định 7971/QĐ-UBND), so the IT centre stops doing it by hand.
//!
//! - A person's mailbox is the given name followed by the initials of the family and middle names, without
//!   diacritics, lower case: Nguyễn Văn Dũng → `dungnv`. A clash adds 1, 2, 3…: `dungnv1`.
//! - A unit's mailbox is the unit's abbreviation: Sở Kế hoạch và Đầu tư → `skhdt`.
//!
//! The rules are pure functions; [`first_free`] alone asks the directory which names are taken.
//! [`fold`] (no diacritics, đ → d, lower case) is also how the public directory page matches searches.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::directory::{Directory, Refusal, Unavailable};

/// Vietnamese text without its diacritics, lower case: "Đầu Tư" → "dau tu". Accepts composed (NFC) and
/// decomposed (NFD) input alike; letters of other scripts and punctuation are kept (lower-cased).
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| if matches!(c, 'đ' | 'Đ') { 'd' } else { c })
        .flat_map(char::to_lowercase)
        .collect()
}

/// One word of a name folded to ASCII letters (digits, hyphens and anything else dropped).
fn ascii_word(word: &str) -> String {
    fold(word).chars().filter(char::is_ascii_lowercase).collect()
}

/// The words of a name that carry letters, folded: "  Nguyễn   Văn Dũng " → ["nguyen", "van", "dung"].
fn words(name: &str) -> Vec<String> {
    name.split_whitespace().map(ascii_word).filter(|w| !w.is_empty()).collect()
}

/// The mailbox name (local part) the rule gives a person: the given name (the last word) followed by the
/// first letter of every other word. `None` when the name has no letters at all.
pub fn personal_name(full_name: &str) -> Option<String> {
    let words = words(full_name);
    let (given, others) = words.split_last()?;
    let initials = others.iter().filter_map(|w| w.chars().next());
    Some(given.chars().chain(initials).collect())
}

/// Words a unit's abbreviation leaves out: the conjunction in "Sở Kế hoạch và Đầu tư" (`skhdt`).
const UNIT_SKIPPED_WORDS: [&str; 2] = ["va", "cua"];

/// The mailbox name the rule gives a unit: the first letter of each word, a word written in capitals
/// (UBND, HĐND) kept whole, "và"/"của" left out, and a closing "thành phố" (the city the domain already
/// names) dropped: Sở Kế hoạch và Đầu tư → `skhdt`, Văn phòng UBND thành phố → `vpubnd`.
pub fn unit_name(unit: &str) -> Option<String> {
    let words: Vec<(&str, String)> =
        unit.split_whitespace().map(|w| (w, ascii_word(w))).filter(|(_, folded)| !folded.is_empty()).collect();
    let folded: Vec<&str> = words.iter().map(|(_, f)| f.as_str()).collect();
    let keep = [&["thanh", "pho", "da", "nang"][..], &["thanh", "pho"][..]]
        .iter()
        .find(|suffix| folded.ends_with(suffix) && folded.len() > suffix.len())
        .map_or(folded.len(), |suffix| folded.len() - suffix.len());
    let is_acronym = |word: &str| {
        let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
        letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase())
    };
    // A name written all in capitals has no acronyms to tell apart: every word gives its initial.
    let shouting = words.iter().all(|(w, _)| is_acronym(w));
    let mut out = String::new();
    for (word, folded) in &words[..keep] {
        if !shouting && is_acronym(word) {
            out.push_str(folded);
        } else if !UNIT_SKIPPED_WORDS.contains(&folded.as_str()) {
            out.extend(folded.chars().next());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The candidates for a base name in order: `dungnv`, `dungnv1`, `dungnv2`, …
pub fn candidates(base: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(base.to_owned()).chain((1..).map(move |n| format!("{base}{n}")))
}

/// How many numbered names [`first_free`] tries before giving up (a directory answering "taken" forever).
const MAX_SUFFIX: usize = 10_000;

/// The first of `base`, `base1`, `base2`… free in the directory under `domain` and not in `reserved` (names
/// already handed out in the same batch). A disabled (locked) account still holds its name: only a name the
/// directory does not know at all is free.
pub async fn first_free(
    directory: &dyn Directory,
    base: &str,
    domain: &str,
    reserved: &HashSet<String>,
) -> Result<String, Unavailable> {
    for candidate in candidates(base).take(MAX_SUFFIX) {
        if reserved.contains(&candidate) {
            continue;
        }
        match directory.lookup(&format!("{candidate}@{domain}")).await? {
            Err(Refusal::UnknownAccount) => return Ok(candidate),
            Ok(_) | Err(Refusal::Disabled | Refusal::WrongPassword) => {}
        }
    }
    Err(Unavailable(format!("no free mailbox name for {base} after {MAX_SUFFIX} tries")))
}

#[cfg(test)]
mod tests;
