//! Mailbox names against a real slapd holding the demo directory (dungnv and dungnv1 exist, khoanm is locked),
//! in-process and through the real binary, one name at a time and as a CSV annex list.

use std::collections::HashSet;

use danang_sso::policy::mailbox::first_free;
use danang_sso::report::annex::{self, NewStaff};
use unicode_normalization::UnicodeNormalization;

use super::{TempDir, cli, ldap_toml, path_str, stderr, stdout};
use crate::directory_suite::{demo_slapd, ldap_config, ldap_directory};

const DOMAIN: &str = "danang.gov.vn";

#[tokio::test]
async fn the_next_nguyen_van_dung_is_dungnv2_in_a_real_slapd() {
    let slapd = demo_slapd();
    let dir = ldap_directory(&ldap_config(&slapd));
    let none = HashSet::new();
    assert_eq!(first_free(&dir, "dungnv", DOMAIN, &none).await.unwrap(), "dungnv2");
    let batch = HashSet::from(["dungnv2".to_owned()]);
    assert_eq!(first_free(&dir, "dungnv", DOMAIN, &batch).await.unwrap(), "dungnv3", "taken earlier in the batch");
    assert_eq!(first_free(&dir, "khoanm", DOMAIN, &none).await.unwrap(), "khoanm1", "a locked account keeps its name");
    assert_eq!(first_free(&dir, "huongtt", DOMAIN, &none).await.unwrap(), "huongtt1", "stored as HuongTT@");
    assert_eq!(first_free(&dir, "diepdtn", DOMAIN, &none).await.unwrap(), "diepdtn");

    let staff = |name: &str| NewStaff { full_name: name.into(), unit: String::new() };
    let list =
        vec![staff("Nguyễn Văn Dũng"), staff(&"Nguyễn Văn Dũng".nfd().collect::<String>()), staff("Ngô Minh Khoa")];
    let proposed = annex::propose(Some(&dir), DOMAIN, list).await.unwrap();
    let mailboxes: Vec<&str> = proposed.iter().filter_map(|p| p.mailbox.as_deref()).collect();
    assert_eq!(mailboxes, ["dungnv2@danang.gov.vn", "dungnv3@danang.gov.vn", "khoanm1@danang.gov.vn"]);
}

#[tokio::test]
async fn the_binary_proposes_names_and_units_with_and_without_the_directory() {
    let slapd = demo_slapd();
    let tmp = TempDir::new("mailbox-name");
    let config = path_str(&tmp.write("config.toml", &ldap_toml(&slapd)));

    let out = cli(&["--config", &config, "mailbox-name", "Nguyễn Văn Dũng"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "dungnv2@danang.gov.vn\n");
    assert!(stderr(&out).contains("dungnv@danang.gov.vn is taken"), "{}", stderr(&out));
    let nfd: String = "  Nguyễn  Văn Dũng ".nfd().collect();
    assert_eq!(stdout(&cli(&["--config", &config, "mailbox-name", &nfd]).await), "dungnv2@danang.gov.vn\n");

    let out = cli(&["mailbox-name", "Nguyễn Văn Dũng"]).await;
    assert_eq!(stdout(&out), "dungnv@danang.gov.vn\n", "without --config: the rule alone");

    let unit = cli(&["--config", &config, "mailbox-name", "--unit", "Sở Kế hoạch và Đầu tư"]).await;
    assert_eq!(stdout(&unit), "skhdt1@danang.gov.vn\n", "skhdt exists: {}", stderr(&unit));
    assert_eq!(stdout(&cli(&["mailbox-name", "--unit", "Sở Kế hoạch và Đầu tư"]).await), "skhdt@danang.gov.vn\n");
    assert_eq!(
        stdout(&cli(&["--config", &config, "mailbox-name", "--unit", "Sở Tài chính"]).await),
        "stc@danang.gov.vn\n"
    );

    let nothing = cli(&["mailbox-name"]).await;
    assert_eq!(nothing.status.code(), Some(2), "a name, --unit or --csv is required");
}

/// The annex list as a unit sends it: Vietnamese headers, extra columns, quoted fields with commas and quotes.
const ANNEX: &str = "\u{feff}STT,Họ và tên,Chức vụ,Đơn vị\r\n\
1,Nguyễn Văn Dũng,Chuyên viên,\"Sở Kế hoạch, Đầu tư\"\r\n\
2,Trần Thị Hương,,Sở Y tế\r\n\
3,\"Nguyễn Văn Dũng\",Phó phòng,Sở Tài chính\r\n\
4,Đỗ Thị Ngọc Điệp,,\"Phòng \"\"Một cửa\"\"\"\r\n";

#[tokio::test]
async fn the_binary_answers_a_csv_list_against_the_directory_and_within_the_file() {
    let slapd = demo_slapd();
    let tmp = TempDir::new("annex");
    let config = path_str(&tmp.write("config.toml", &ldap_toml(&slapd)));
    let annex = path_str(&tmp.write("annex.csv", ANNEX));
    let output = tmp.0.join("proposed.csv");

    let out = cli(&["--config", &config, "mailbox-name", "--csv", &annex, "--output", &path_str(&output)]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "the answer went to --output");
    let expected = "\u{feff}full_name,unit,mailbox,note\r\n\
        Nguyễn Văn Dũng,\"Sở Kế hoạch, Đầu tư\",dungnv2@danang.gov.vn,trùng tên dungnv@danang.gov.vn\r\n\
        Trần Thị Hương,Sở Y tế,huongtt1@danang.gov.vn,trùng tên huongtt@danang.gov.vn\r\n\
        Nguyễn Văn Dũng,Sở Tài chính,dungnv3@danang.gov.vn,trùng tên dungnv@danang.gov.vn\r\n\
        Đỗ Thị Ngọc Điệp,\"Phòng \"\"Một cửa\"\"\",diepdtn@danang.gov.vn,\r\n";
    assert_eq!(std::fs::read_to_string(&output).unwrap(), expected);

    // Without a directory, only the file's own namesakes clash.
    let alone = stdout(&cli(&["mailbox-name", "--csv", &annex]).await);
    let mailboxes: Vec<&str> = alone.lines().skip(1).map(|l| l.split(',').rev().nth(1).unwrap()).collect();
    assert_eq!(
        mailboxes,
        ["dungnv@danang.gov.vn", "huongtt@danang.gov.vn", "dungnv1@danang.gov.vn", "diepdtn@danang.gov.vn"]
    );

    let broken = tmp.write("broken.csv", "Họ và tên\n\"Nguyễn Văn Dũng\n");
    let out = cli(&["mailbox-name", "--csv", &path_str(&broken)]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("never closed"), "{}", stderr(&out));
}
