//! An RFC 2849 LDIF reader for content records: no LDIF crate exists, and the embedded directory needs one.
//!
//! It reads what `slapcat` and `ldapsearch -LLL` write and what `ldapadd` takes: blank-line separated
//! records, `#` comments, folded lines, `attr:: base64` values, an optional `version: 1` line and
//! attribute options such as `;binary`. It refuses what it cannot honour — change records
//! (`changetype:`) and `attr:< URL` values — with the line number, rather than guessing.
//!
//! Folded lines are joined on bytes before any UTF-8 decoding, because writers fold at a byte count
//! and may split a multi-byte character ("ũ" is two bytes) across two lines. Every text value and DN
//! is NFC-normalised here, once, so nothing downstream can forget: directories often hold
//! decomposed Vietnamese.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use unicode_normalization::UnicodeNormalization;

/// Why an LDIF file could not be read; syntax errors carry the (1-based) line where the problem starts.
#[derive(Debug, thiserror::Error)]
pub enum LdifError {
    /// The file could not be read at all.
    #[error("cannot read LDIF file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not LDIF this reader accepts (or the directory found it inconsistent).
    #[error("{}line {line}: {message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Syntax {
        /// The file, when the text came from one.
        path: Option<PathBuf>,
        line: usize,
        message: String,
    },
}

impl LdifError {
    /// A syntax error at `line`, before the caller knows which file it came from.
    pub(crate) fn at(line: usize, message: impl Into<String>) -> Self {
        LdifError::Syntax { path: None, line, message: message.into() }
    }

    /// Names the file in a syntax error, so an operator knows where to look.
    pub(crate) fn in_file(self, file: PathBuf) -> Self {
        match self {
            LdifError::Syntax { line, message, .. } => LdifError::Syntax { path: Some(file), line, message },
            other => other,
        }
    }
}

/// One attribute value: LDIF does not say whether base64 hides text or bytes, so we look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Valid UTF-8, NFC-normalised.
    Text(String),
    /// A base64 value that is not UTF-8 (a photo, a certificate).
    Binary(Vec<u8>),
}

/// One content record: a DN and its attributes, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The DN as written (NFC-normalised); compare DNs only after normalising case and spaces.
    pub dn: String,
    /// The line of the `dn:` line, for messages about the entry.
    pub line: usize,
    /// (attribute type in ASCII lower case without options, value), in file order.
    pub attributes: Vec<(String, Value)>,
}

impl Entry {
    /// The text values of one attribute (name in any case; binary values are skipped).
    pub fn texts<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = name.to_ascii_lowercase();
        self.attributes.iter().filter_map(move |(attr, value)| match value {
            Value::Text(text) if *attr == name => Some(text.as_str()),
            _ => None,
        })
    }

    /// The first non-empty text value of one attribute: what a single-valued reading wants.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.texts(name).map(str::trim).find(|text| !text.is_empty())
    }

    /// Whether the entry has the attribute at all (any value, even empty or binary).
    pub fn has(&self, name: &str) -> bool {
        self.attributes.iter().any(|(attr, _)| attr.eq_ignore_ascii_case(name))
    }
}

/// A line after unfolding, with the number of its first physical line.
struct Logical {
    line: usize,
    bytes: Vec<u8>,
}

/// Reads LDIF content records. Takes bytes, not `&str`: a fold may split a UTF-8 character, which
/// makes the file as a whole invalid UTF-8 until it is unfolded.
pub fn parse(input: &[u8]) -> Result<Vec<Entry>, LdifError> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let mut entries = Vec::new();
    let mut first_record = true;
    for record in records(input)? {
        let mut lines = record.as_slice();
        if first_record {
            first_record = false;
            if let Some((head, rest)) = lines.split_first() {
                let (name, _) = split_attribute(head)?;
                if name == "version" {
                    let version = value(head)?;
                    if version != Value::Text("1".into()) {
                        return Err(LdifError::at(head.line, "only LDIF `version: 1` is supported"));
                    }
                    lines = rest;
                }
            }
        }
        if !lines.is_empty() {
            entries.push(entry(lines)?);
        }
    }
    Ok(entries)
}

/// Splits the input into records of unfolded, comment-free lines.
fn records(input: &[u8]) -> Result<Vec<Vec<Logical>>, LdifError> {
    let mut records = Vec::new();
    let mut current: Vec<Logical> = Vec::new();
    for (index, raw) in input.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            if !current.is_empty() {
                records.push(std::mem::take(&mut current));
            }
        } else if let Some(rest) = raw.strip_prefix(b" ") {
            match current.last_mut() {
                Some(previous) => previous.bytes.extend_from_slice(rest),
                // Whitespace alone between records is a sloppy blank line, not a continuation.
                None if raw.iter().all(u8::is_ascii_whitespace) => {}
                None => {
                    return Err(LdifError::at(line, "continuation line (starting with a space) continues nothing"));
                }
            }
        } else {
            current.push(Logical { line, bytes: raw.to_vec() });
        }
    }
    if !current.is_empty() {
        records.push(current);
    }
    // Comments go only now, so that a folded comment's continuation lines go with it.
    for record in &mut records {
        record.retain(|logical| !logical.bytes.starts_with(b"#"));
    }
    records.retain(|record| !record.is_empty());
    Ok(records)
}

/// Builds one entry from its lines: `dn:` first, then attributes; change records are refused.
fn entry(lines: &[Logical]) -> Result<Entry, LdifError> {
    let Some((head, rest)) = lines.split_first() else {
        return Err(LdifError::at(0, "empty record"));
    };
    let (name, _) = split_attribute(head)?;
    if name != "dn" {
        return Err(LdifError::at(head.line, format!("a record must start with `dn:`, found `{name}:`")));
    }
    let dn = match value(head)? {
        Value::Text(dn) => dn.trim().to_owned(),
        Value::Binary(_) => return Err(LdifError::at(head.line, "the DN is not valid UTF-8")),
    };
    let mut attributes = Vec::with_capacity(rest.len());
    for (position, logical) in rest.iter().enumerate() {
        let (name, _) = split_attribute(logical)?;
        if name == "changetype" || (name == "control" && position == 0) {
            return Err(LdifError::at(
                logical.line,
                format!(
                    "change records (`{name}:`) are not supported: this file must hold plain entries, as slapcat writes them"
                ),
            ));
        }
        if name == "dn" {
            return Err(LdifError::at(logical.line, "a second `dn:` inside one record (missing blank line?)"));
        }
        attributes.push((name, value(logical)?));
    }
    Ok(Entry { dn, line: head.line, attributes })
}

/// The attribute type of a line, ASCII lower case, options (`;binary`, `;lang-vi`) dropped,
/// and the bytes after the first colon.
fn split_attribute(logical: &Logical) -> Result<(String, &[u8]), LdifError> {
    let Some(colon) = logical.bytes.iter().position(|&b| b == b':') else {
        return Err(LdifError::at(logical.line, "expected `attribute: value`, found no colon"));
    };
    let (description, rest) = logical.bytes.split_at(colon);
    let mut parts = description.split(|&b| b == b';');
    let name = parts.next().unwrap_or_default();
    let valid =
        |part: &[u8]| !part.is_empty() && part.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.');
    if !valid(name) || !parts.all(valid) {
        let shown = String::from_utf8_lossy(description);
        return Err(LdifError::at(logical.line, format!("invalid attribute description `{shown}`")));
    }
    // `valid` admitted ASCII only, so the lossy conversion is exact.
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    Ok((name, rest.get(1..).unwrap_or_default()))
}

/// The value of a line: plain (UTF-8), `::` base64, or a refused `:<` URL.
fn value(logical: &Logical) -> Result<Value, LdifError> {
    let (_, after_colon) = split_attribute(logical)?;
    let line = logical.line;
    let skip_fill = |bytes: &[u8]| -> Vec<u8> { bytes.iter().skip_while(|&&b| b == b' ').copied().collect() };
    match after_colon.first() {
        Some(b':') => {
            let encoded = skip_fill(&after_colon[1..]);
            let encoded = String::from_utf8_lossy(&encoded);
            let decoded = STANDARD
                .decode(encoded.trim_end())
                .map_err(|error| LdifError::at(line, format!("invalid base64 value: {error}")))?;
            Ok(match String::from_utf8(decoded) {
                Ok(text) => Value::Text(text.nfc().collect()),
                Err(error) => Value::Binary(error.into_bytes()),
            })
        }
        Some(b'<') => {
            Err(LdifError::at(line, "URL values (`attr:< URL`) are not supported; put the value in the file"))
        }
        _ => match String::from_utf8(skip_fill(after_colon)) {
            Ok(text) => Ok(Value::Text(text.nfc().collect())),
            Err(_) => Err(LdifError::at(line, "value is not valid UTF-8 (encode it with `attr:: base64`)")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_line(input: &[u8]) -> (usize, String) {
        match parse(input) {
            Err(LdifError::Syntax { line, message, .. }) => (line, message),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    fn text(value: &str) -> Value {
        Value::Text(value.to_owned())
    }

    #[test]
    fn records_comments_version_and_case() {
        let input = b"# header comment\n#  folded\n  comment\nversion: 1\n\ndn: cn=a,dc=x\nObjectClass: top\n\
            # inside a record\nCN: A\n\n\n# between\n\ndn: cn=b,dc=x\ncn: B\n";
        let entries = parse(input).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].dn, "cn=a,dc=x");
        assert_eq!(entries[0].line, 6);
        assert_eq!(entries[0].attributes, vec![("objectclass".into(), text("top")), ("cn".into(), text("A"))]);
        assert_eq!(entries[0].first("cn"), Some("A"));
        assert_eq!(entries[1].first("CN"), Some("B"));
    }

    #[test]
    fn version_on_the_first_record_line_and_crlf() {
        let entries = parse(b"version: 1\r\ndn: cn=a\r\ncn: A\r\n").unwrap();
        assert_eq!(entries[0].dn, "cn=a");
        assert_eq!(entries[0].first("cn"), Some("A"));
        assert_eq!(error_line(b"version: 2\n\ndn: cn=a\n").0, 1);
    }

    #[test]
    fn folding_joins_bytes_even_inside_a_utf8_character() {
        // "Dũng": ũ is C5 A9, folded between its two bytes; the file is not UTF-8 until unfolded.
        let input = b"dn: cn=x\ncn: D\xC5\n \xA9ng\ndescription: one\n  two\n";
        let entry = &parse(input).unwrap()[0];
        assert_eq!(entry.first("cn"), Some("Dũng"));
        assert_eq!(entry.first("description"), Some("one two"));
    }

    #[test]
    fn base64_values_text_binary_and_nfc() {
        // "Nguyễn Văn Dũng" decomposed (NFD), as some directories store it.
        let input = b"dn:: Y249eA==\ncn:: Tmd1eWXMgsyDbiBWYcyGbiBEdcyDbmc=\njpegPhoto;binary:: /9j/\n";
        let entry = &parse(input).unwrap()[0];
        assert_eq!(entry.dn, "cn=x");
        assert_eq!(entry.first("cn"), Some("Nguyễn Văn Dũng"));
        assert_eq!(entry.first("cn").map(|cn| cn.chars().count()), Some(15), "composed, not decomposed");
        assert_eq!(entry.attributes[1], ("jpegphoto".into(), Value::Binary(vec![0xFF, 0xD8, 0xFF])));
        assert!(entry.has("JPEGPHOTO"));
        assert_eq!(error_line(b"dn: cn=x\ncn:: %%%\n").0, 2);
    }

    #[test]
    fn plain_values_are_nfc_normalised_too() {
        let entry = &parse("dn: cn=x\nsn: Nguye\u{302}\u{303}n\n".as_bytes()).unwrap()[0];
        assert_eq!(entry.first("sn"), Some("Nguyễn"));
    }

    #[test]
    fn url_values_are_refused_with_the_line() {
        let (line, message) = error_line(b"dn: cn=x\ncn: x\njpegPhoto:< file:///etc/passwd\n");
        assert_eq!(line, 3);
        assert!(message.contains("URL"), "{message}");
    }

    #[test]
    fn change_records_are_refused_with_the_line() {
        let (line, message) = error_line(b"dn: cn=a\ncn: a\n\ndn: cn=x\nchangetype: modify\nreplace: cn\ncn: y\n");
        assert_eq!(line, 5);
        assert!(message.contains("changetype"), "{message}");
        assert_eq!(error_line(b"dn: cn=x\ncontrol: 1.2.3 true\nchangetype: delete\n").0, 2);
    }

    #[test]
    fn malformed_lines_name_their_line() {
        assert_eq!(error_line(b"dn: cn=x\n\ncn: no dn\n").0, 3);
        assert_eq!(error_line(b"dn: cn=x\nno colon here\n").0, 2);
        assert_eq!(error_line(b"dn: cn=x\nbad name: v\n").0, 2);
        assert_eq!(error_line(b"\n continues nothing\n").0, 2);
        assert_eq!(error_line(b"dn: cn=x\ncn: x\ndn: cn=y\n").0, 3);
        assert_eq!(error_line(b"dn: cn=x\ncn: \xFF\n").0, 2);
        let error = LdifError::at(7, "bad").in_file("demo.ldif".into());
        assert_eq!(error.to_string(), "demo.ldif: line 7: bad");
    }
}
