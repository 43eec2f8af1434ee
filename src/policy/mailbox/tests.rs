//! The naming rule on real-looking Vietnamese names, and the clash suffix against the embedded demo directory.

use super::*;
use crate::directory::ldif::LdifDirectory;

/// Full name → the mailbox name the rule gives. Every Vietnamese letter with a mark (ă â đ ê ô ơ ư and the
/// five tones on each), two- to seven-word names, a single word, namesakes.
const NAMES: &[(&str, &str)] = &[
    ("Nguyễn Văn Dũng", "dungnv"),
    ("Trần Thị Hương", "huongtt"),
    ("Lê Thị Thu Hà", "haltt"),
    ("Phạm Đức Thắng", "thangpd"),
    ("Võ Ngọc Ánh", "anhvn"),
    ("Ngô Minh Khoa", "khoanm"),
    ("Đặng Văn Đức", "ducdv"),
    ("Đỗ Thị Ngọc Điệp", "diepdtn"),
    ("Hoàng Văn Ưng", "unghv"),
    ("Trương Công Lực", "luctc"),
    ("Lương Thị Mơ", "molt"),
    ("Phan Thị Mỹ Hạnh", "hanhptm"),
    ("Huỳnh Tấn Phát", "phatht"),
    ("Bùi Thị Xuân", "xuanbt"),
    ("Đinh Quang Ân", "andq"),
    ("Vũ Hoàng Anh", "anhvh"),
    ("Dương Văn Ơn", "ondv"),
    ("Trần Thị Thắm", "thamtt"),
    ("Lê Thị Tuyết", "tuyetlt"),
    ("Tô Văn Hồng", "hongtv"),
    ("Cao Thị Thuỳ Dương", "duongctt"),
    ("Mai Xuân Thưởng", "thuongmx"),
    ("Châu Ngọc Quế", "quecn"),
    ("Hồ Sĩ Cường", "cuonghs"),
    ("Âu Dương Phong", "phongad"),
    ("Lý Thường Kiệt", "kietlt"),
    ("Tôn Nữ Thị Ninh", "ninhtnt"),
    ("Nguyễn Phước Bảo Đại", "dainpb"),
    ("Ông Ích Khiêm", "khiemoi"),
    ("Ưng Hoàng Phúc", "phucuh"),
    ("Phạm Thị Nở", "nopt"),
    ("Kiều Thị Ngân", "ngankt"),
    ("Đàm Vĩnh Hưng", "hungdv"),
    ("Đoàn Văn Hậu", "haudv"),
    ("Trần Hưng", "hungt"),
    ("Ất Văn Ẩn", "anav"),
    ("Nguyễn Lê Thị Thanh Hương", "huongnltt"),
    ("Công Tằng Tôn Nữ Thị Phương Thảo", "thaocttntp"),
    ("Hùng", "hung"),
    ("Đ", "d"),
    // Typing as it comes: capitals, lower case, extra and unusual spaces, a hyphenated family name.
    ("NGUYỄN VĂN DŨNG", "dungnv"),
    ("nguyễn văn dũng", "dungnv"),
    ("  Nguyễn   Văn  Dũng  ", "dungnv"),
    ("Lê\u{a0}Văn\tTám", "tamlv"),
    ("Nguyễn-Trần Minh Anh", "anhnm"),
    ("Trịnh Công Sơn.", "sontc"),
];

#[test]
fn every_name_in_the_table_gets_its_mailbox() {
    assert!(NAMES.len() >= 40);
    for (name, expected) in NAMES {
        assert_eq!(personal_name(name).as_deref(), Some(*expected), "{name:?}");
    }
}

#[test]
fn decomposed_and_mixed_input_gives_the_same_names() {
    for (name, expected) in NAMES {
        let nfd: String = name.nfd().collect();
        assert_eq!(personal_name(&nfd).as_deref(), Some(*expected), "NFD {name:?}");
    }
    // Written out, so the test does not rely on the normaliser it tests: "Dũng" as D u U+0303 n g,
    // "Ước" as U U+031B U+0301 o U+031B c, Đ as it is (it has no decomposition).
    assert_eq!(personal_name("Nguye\u{302}\u{303}n Va\u{306}n Du\u{303}ng").as_deref(), Some("dungnv"));
    assert_eq!(personal_name("Tru\u{31b}o\u{31b}ng Thị U\u{31b}\u{301}o\u{31b}c").as_deref(), Some("uoctt"));
    assert_eq!(personal_name("\u{110}a\u{300}m Vi\u{303}nh Hu\u{31b}ng").as_deref(), Some("hungdv"));
}

#[test]
fn a_name_without_letters_gets_none() {
    for name in ["", "   ", "123", "- .", "\u{303}"] {
        assert_eq!(personal_name(name), None, "{name:?}");
    }
}

#[test]
fn fold_strips_every_mark_and_lowers_case() {
    assert_eq!(fold("Sở Kế hoạch và Đầu tư"), "so ke hoach va dau tu");
    assert_eq!(fold("ĂÂĐÊÔƠƯ ăâđêôơư"), "aadeoou aadeoou");
    assert_eq!(fold("Sở Kế hoạch".nfd().collect::<String>().as_str()), "so ke hoach");
    assert_eq!(fold("UBND"), "ubnd");
}

#[test]
fn units_get_their_abbreviation() {
    let units = [
        ("Sở Kế hoạch và Đầu tư", "skhdt"),
        ("Sở Thông tin và Truyền thông", "stttt"),
        ("Văn phòng UBND thành phố", "vpubnd"),
        ("Sở Tài chính", "stc"),
        ("Sở Giao thông vận tải", "sgtvt"),
        ("UBND quận Hải Châu", "ubndqhc"),
        ("HĐND thành phố Đà Nẵng", "hdnd"),
        ("Sở Kế hoạch và Đầu tư thành phố Đà Nẵng", "skhdt"),
        ("SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "skhdt"),
        ("  Sở  Kế hoạch và Đầu tư ", "skhdt"),
        ("Phòng Tài chính - Kế hoạch", "ptckh"),
        ("Thành phố", "tp"),
    ];
    for (unit, expected) in units {
        assert_eq!(unit_name(unit).as_deref(), Some(expected), "{unit:?}");
        let nfd: String = unit.nfd().collect();
        assert_eq!(unit_name(&nfd).as_deref(), Some(expected), "NFD {unit:?}");
    }
    assert_eq!(unit_name(" - "), None);
}

#[test]
fn clashes_number_from_one() {
    let names: Vec<String> = candidates("dungnv").take(4).collect();
    assert_eq!(names, ["dungnv", "dungnv1", "dungnv2", "dungnv3"]);
}

fn demo() -> LdifDirectory {
    LdifDirectory::parse(crate::config::DEMO_LDIF).unwrap()
}

#[tokio::test]
async fn first_free_skips_names_the_directory_or_the_batch_holds() {
    let dir = demo();
    let none = HashSet::new();
    let free = |base: &'static str, reserved: HashSet<String>| {
        let dir = &dir;
        async move { first_free(dir, base, "danang.gov.vn", &reserved).await.unwrap() }
    };
    // dungnv and dungnv1 exist in the demo directory.
    assert_eq!(free("dungnv", none.clone()).await, "dungnv2");
    assert_eq!(free("dungnv", HashSet::from(["dungnv2".to_owned()])).await, "dungnv3");
    // Stored as HuongTT@: names compare without case.
    assert_eq!(free("huongtt", none.clone()).await, "huongtt1");
    // khoanm is locked: a disabled account still holds its name.
    assert_eq!(free("khoanm", none.clone()).await, "khoanm1");
    // dungnv.danang@gmail.com is another domain: it does not take dungnv.danang here.
    assert_eq!(free("dungnv.danang", none.clone()).await, "dungnv.danang");
    assert_eq!(free("hungdv", HashSet::from(["hungdv".to_owned()])).await, "hungdv1");
}
