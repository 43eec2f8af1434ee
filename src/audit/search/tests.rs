//! The audit search over real files: newest first across rotated files, filters, paging, blocks smaller than a line.

use std::io::Cursor;

use super::*;

fn line(time: &str, event: &str, account: &str, client: &str) -> String {
    format!(r#"{{"time":"{time}","instance":"sso-1","event":"{event}","account":"{account}","client":"{client}"}}"#)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("danang-sso-audit-search-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn lines_come_back_newest_first_whatever_the_block_boundaries() {
    let text: String = (0..5000).map(|i| format!("line {i} {}\n", "x".repeat(i % 97))).collect();
    let lines: Vec<String> =
        ReverseLines::new(Cursor::new(text.clone().into_bytes())).unwrap().map(Result::unwrap).collect();
    let mut expected: Vec<String> = text.split('\n').map(str::to_owned).collect();
    expected.reverse();
    assert_eq!(lines, expected, "the empty line after the last newline comes first");
    let no_newline: Vec<String> =
        ReverseLines::new(Cursor::new(b"a\nb".to_vec())).unwrap().map(Result::unwrap).collect();
    assert_eq!(no_newline, ["b", "a"]);
    let long = format!("{}\nshort\n", "y".repeat(3 * BLOCK + 7));
    let lines: Vec<String> = ReverseLines::new(Cursor::new(long.into_bytes())).unwrap().map(Result::unwrap).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!((lines[1].as_str(), lines[2].len()), ("short", 3 * BLOCK + 7));
    assert_eq!(ReverseLines::new(Cursor::new(Vec::new())).unwrap().count(), 0);
}

#[test]
fn searches_the_live_and_rotated_files_newest_first_with_filters_and_pages() {
    let dir = temp_dir("rotated");
    let live = dir.join("audit.jsonl");
    let old = [
        line("2026-12-01T01:00:00.000Z", "sign_in_success", "dungnv@danang.gov.vn", "portal"),
        line("2026-12-01T02:00:00.000Z", "sign_in_failure", "huongtt@danang.gov.vn", "portal"),
    ];
    std::fs::write(dir.join("audit.jsonl.1"), old.join("\n") + "\n").unwrap();
    std::fs::write(dir.join("audit.jsonl.2.gz"), "not read").unwrap();
    std::fs::write(dir.join("other.jsonl"), line("2026-12-01T09:00:00.000Z", "logout", "x@y", "z")).unwrap();
    let new = [
        line("2026-12-01T03:00:00.000Z", "sign_in_success", "DungNV@danang.gov.vn", "mot-cua"),
        "not json".to_owned(),
        line("2026-12-01T04:00:00.000Z", "logout", "dungnv@danang.gov.vn", "portal"),
    ];
    std::fs::write(&live, new.join("\n") + "\n").unwrap();

    let files = files(&live);
    assert_eq!(files, [live.clone(), dir.join("audit.jsonl.1")], "compressed and unrelated files left out");

    let all = search(&files, &Query::default(), 0, 10).unwrap();
    let times: Vec<&str> = all.entries.iter().map(|e| &e.time[11..13]).collect();
    assert_eq!(times, ["04", "03", "02", "01"]);
    assert_eq!((all.more, all.unreadable), (false, 1));

    let dung = Query { account: Some("dungnv@danang.gov.vn".into()), ..Query::default() };
    let first = search(&files, &dung, 0, 2).unwrap();
    assert_eq!(first.entries.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(), ["logout", "sign_in_success"]);
    assert!(first.more);
    let second = search(&files, &dung, 2, 2).unwrap();
    assert_eq!(
        (second.entries.len(), second.entries[0].time.as_str(), second.more),
        (1, "2026-12-01T01:00:00.000Z", false)
    );

    let at = |t: &str| parse_rfc3339_utc(t).unwrap();
    let range = Query {
        event: Some("sign_in_success".into()),
        client: Some("portal".into()),
        from: Some(at("2026-12-01T00:30:00Z")),
        to: Some(at("2026-12-01T03:00:00Z")),
        ..Query::default()
    };
    let found = search(&files, &range, 0, 10).unwrap();
    assert_eq!(found.entries.len(), 1);
    assert_eq!(found.entries[0].account.as_deref(), Some("dungnv@danang.gov.vn"));

    let mut counted = Vec::new();
    let hour = Query { from: Some(at("2026-12-01T02:30:00Z")), ..Query::default() };
    scan(&files, &hour, |e, _| counted.push(e.event.clone())).unwrap();
    assert_eq!(counted, ["logout", "sign_in_success"]);
    let _ = std::fs::remove_dir_all(&dir);
}
