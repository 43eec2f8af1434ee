//! The annex list units send in with their new staff, answered with the proposed mailboxes.
//!
//! Input: CSV, UTF-8 (a byte-order mark is fine), a header row, one person per row. The full-name column is
//! headed `full_name`, `ho_ten` or `Họ và tên`; the unit column `unit`, `don_vi` or `Đơn vị` (optional);
//! any other column is ignored; header names ignore case and diacritics. Output: CSV with
//! `full_name,unit,mailbox,note`, in the input's order. Rows are served in order, so list people by rank:
//! of two namesakes, the first listed gets the lower number.

use std::collections::HashSet;

use crate::csv;
use crate::directory::Directory;
use crate::policy::mailbox::{candidates, first_free, fold, personal_name};
use crate::report::ReportError;

/// One person of the annex list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaff {
    /// "Nguyễn Văn Dũng", as the unit wrote it (any spacing, composed or not).
    pub full_name: String,
    /// The unit the person joins (copied to the answer; empty when the list has no unit column).
    pub unit: String,
}

/// The answer for one person: the proposed address, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The row it answers.
    pub staff: NewStaff,
    /// `dungnv2@danang.gov.vn`; `None` when the name has no letters.
    pub mailbox: Option<String>,
    /// Why the address differs from the plain rule (a clash), or why there is none.
    pub note: String,
}

const NAME_HEADERS: [&str; 4] = ["full name", "ho ten", "ho va ten", "name"];
const UNIT_HEADERS: [&str; 4] = ["unit", "don vi", "co quan", "co quan, don vi"];

/// Reads an annex list.
pub fn read(text: &str) -> Result<Vec<NewStaff>, ReportError> {
    let records = csv::parse(text).map_err(|e| ReportError::Invalid(format!("CSV: {e}")))?;
    let Some((header, rows)) = records.split_first() else { return Ok(Vec::new()) };
    let find = |names: &[&str]| {
        header.iter().position(|h| {
            let h = fold(h).replace('_', " ");
            names.contains(&h.split_whitespace().collect::<Vec<_>>().join(" ").as_str())
        })
    };
    let name_at = find(&NAME_HEADERS).ok_or_else(|| {
        ReportError::Invalid("CSV: the header row needs a full-name column (full_name, ho_ten or Họ và tên)".into())
    })?;
    let unit_at = find(&UNIT_HEADERS);
    let cell = |row: &[String], at: usize| row.get(at).map(|c| c.trim().to_owned()).unwrap_or_default();
    Ok(rows
        .iter()
        .map(|row| NewStaff {
            full_name: cell(row, name_at),
            unit: unit_at.map(|at| cell(row, at)).unwrap_or_default(),
        })
        .filter(|s| !s.full_name.is_empty() || !s.unit.is_empty())
        .collect())
}

/// Proposes a mailbox for each person in order. A name is taken when `directory` holds it (when given) or an
/// earlier row of the same list received it.
pub async fn propose(
    directory: Option<&dyn Directory>,
    domain: &str,
    staff: Vec<NewStaff>,
) -> Result<Vec<Proposal>, ReportError> {
    let mut given = HashSet::new();
    let mut out = Vec::with_capacity(staff.len());
    for person in staff {
        let Some(base) = personal_name(&person.full_name) else {
            out.push(Proposal { staff: person, mailbox: None, note: "họ tên không có chữ cái".into() });
            continue;
        };
        let name = match directory {
            Some(directory) => first_free(directory, &base, domain, &given).await?,
            None => candidates(&base).find(|c| !given.contains(c)).unwrap_or_default(),
        };
        let note = if name == base { String::new() } else { format!("trùng tên {base}@{domain}") };
        given.insert(name.clone());
        out.push(Proposal { staff: person, mailbox: Some(format!("{name}@{domain}")), note });
    }
    Ok(out)
}

/// The proposals as CSV (with a byte-order mark, for Excel).
pub fn to_csv(proposals: &[Proposal]) -> String {
    let mut w = csv::Writer::for_excel();
    w.record(["full_name", "unit", "mailbox", "note"]);
    for p in proposals {
        w.record([&p.staff.full_name, &p.staff.unit, p.mailbox.as_deref().unwrap_or_default(), &p.note]);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(name: &str, unit: &str) -> NewStaff {
        NewStaff { full_name: name.into(), unit: unit.into() }
    }

    #[test]
    fn headers_are_found_in_either_language_and_extra_columns_ignored() {
        let text =
            "STT,Họ và tên,Chức vụ,Đơn vị\n1,\"Nguyễn Văn Dũng\",Chuyên viên,\"Sở Kế hoạch, Đầu tư\"\n\n2,Lê Hà,,\n";
        assert_eq!(read(text).unwrap(), [staff("Nguyễn Văn Dũng", "Sở Kế hoạch, Đầu tư"), staff("Lê Hà", "")]);
        assert_eq!(read("ho_ten\nTrần Thị Hương\n").unwrap(), [staff("Trần Thị Hương", "")]);
        assert!(read("stt,don_vi\n1,x\n").unwrap_err().to_string().contains("full-name column"));
        assert!(read("").unwrap().is_empty());
    }

    #[tokio::test]
    async fn namesakes_in_one_list_get_numbers_in_order() {
        let list = vec![
            staff("Nguyễn Văn Dũng", "Sở Tài chính"),
            staff("Trần Thị Hương", ""),
            staff("Nguyễn Văn Dũng", "Sở Y tế"),
            staff("Nguyễn Vũ Dung", ""),
            staff("123", ""),
        ];
        let out = propose(None, "danang.gov.vn", list).await.unwrap();
        let mailboxes: Vec<Option<&str>> = out.iter().map(|p| p.mailbox.as_deref()).collect();
        assert_eq!(
            mailboxes,
            [
                Some("dungnv@danang.gov.vn"),
                Some("huongtt@danang.gov.vn"),
                Some("dungnv1@danang.gov.vn"),
                Some("dungnv2@danang.gov.vn"),
                None
            ]
        );
        assert_eq!(out[2].note, "trùng tên dungnv@danang.gov.vn");
        let csv = to_csv(&out);
        assert!(csv.contains("Nguyễn Văn Dũng,Sở Y tế,dungnv1@danang.gov.vn,trùng tên dungnv@danang.gov.vn\r\n"));
    }
}
