//! CSV as offices exchange it (RFC 4180): the staff lists units send in, the reports the IT centre sends out.
//!
//! Small enough to own rather than add a crate: comma-separated, fields quoted with `"` (doubled inside),
//! commas and line breaks allowed inside quotes, CRLF or LF, a UTF-8 byte-order mark (Excel writes one) skipped.

use std::fmt::Write;

/// Why a CSV text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error("line {0}: a quoted field is never closed")]
    Unclosed(usize),
    #[error("line {0}: a quote in the middle of an unquoted field (quote the field and double the quote)")]
    StrayQuote(usize),
}

/// Every record of `text`; blank lines are skipped. Each record is its fields, unquoted.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let (mut line, mut quote_line) = (1, 1);
    let mut in_quotes = false;
    // Whether the field so far came from quotes (so `"",x` keeps its empty field and `"a"b` is refused).
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => {
                    line += usize::from(c == '\n');
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !quoted => {
                (in_quotes, quoted, quote_line) = (true, true, line);
            }
            '"' => return Err(CsvError::StrayQuote(line)),
            ',' => {
                record.push(std::mem::take(&mut field));
                quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                line += 1;
                end_record(&mut records, &mut record, &mut field, quoted);
                quoted = false;
            }
            _ if quoted => return Err(CsvError::StrayQuote(line)),
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError::Unclosed(quote_line));
    }
    end_record(&mut records, &mut record, &mut field, quoted);
    Ok(records)
}

fn end_record(records: &mut Vec<Vec<String>>, record: &mut Vec<String>, field: &mut String, quoted: bool) {
    if record.is_empty() && field.is_empty() && !quoted {
        return;
    }
    record.push(std::mem::take(field));
    records.push(std::mem::take(record));
}

/// Builds CSV text, one record at a time, with CRLF line ends (RFC 4180, and what Excel expects).
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// A writer whose text starts with a UTF-8 byte-order mark, so Excel reads Vietnamese correctly.
    pub fn for_excel() -> Writer {
        Writer { out: "\u{feff}".into() }
    }

    /// Appends one record.
    pub fn record<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) {
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            push_field(&mut self.out, field.as_ref());
        }
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A field, quoted when it must be. A value a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets
/// a leading `'`, so a name taken from the directory can never become a formula in the officer's Excel.
fn push_field(out: &mut String, value: &str) {
    let value = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if value.contains([',', '"', '\r', '\n']) || value.starts_with(' ') || value.ends_with(' ') {
        let _ = write!(out, "\"{}\"", value.replace('"', "\"\""));
    } else {
        out.push_str(&value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<Vec<String>> {
        parse(text).unwrap()
    }

    #[test]
    fn quoted_fields_keep_commas_quotes_and_line_breaks() {
        let text = "\u{feff}full_name,unit\r\n\"Nguyễn Văn Dũng\",\"Sở Kế hoạch, Đầu tư\"\r\n\
                    \"Trần \"\"Út\"\" Hương\",\"Phòng A\nTầng 2\"\n\nLê Hà,\n\"\",x";
        assert_eq!(
            rows(text),
            [
                vec!["full_name", "unit"],
                vec!["Nguyễn Văn Dũng", "Sở Kế hoạch, Đầu tư"],
                vec!["Trần \"Út\" Hương", "Phòng A\nTầng 2"],
                vec!["Lê Hà", ""],
                vec!["", "x"],
            ]
        );
    }

    #[test]
    fn broken_quotes_are_refused_with_their_line() {
        assert_eq!(parse("a,b\n\"open,c\n"), Err(CsvError::Unclosed(2)));
        assert_eq!(parse("a,b\nx\"y,c\n"), Err(CsvError::StrayQuote(2)));
        assert_eq!(parse("\"a\"b,c"), Err(CsvError::StrayQuote(1)));
    }

    #[test]
    fn written_records_read_back_the_same() {
        let records = [
            vec!["mail", "name", "note"],
            vec!["skhdt@danang.gov.vn", "Sở Kế hoạch và Đầu tư", "a, b"],
            vec!["x@danang.gov.vn", "say \"hi\"\nthere", " padded "],
        ];
        let mut w = Writer::for_excel();
        for r in &records {
            w.record(r);
        }
        let text = w.finish();
        assert!(text.starts_with('\u{feff}') && text.ends_with("\r\n"));
        assert_eq!(rows(&text), records);
    }

    #[test]
    fn formulas_are_defused() {
        let mut w = Writer::default();
        w.record(["=HYPERLINK(\"http://x\")", "-1", "@a", "ok"]);
        assert_eq!(w.finish(), "\"'=HYPERLINK(\"\"http://x\"\")\",'-1,'@a,ok\r\n");
    }
}
