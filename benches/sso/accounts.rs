//! The city's civil servants, generated: Vietnamese names, mailboxes as the city makes them
//! (`dungnv@`, then `dungnv1@` for the next Nguyễn Văn Dũng), one unit each, and the LDIF that loads them.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// Every generated account's password (the demo directory's, so the README stays true).
pub const PASSWORD: &str = "Danang@2026";

const FAMILY: [&str; 16] = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý",
];
const MIDDLE: [&str; 10] = ["Văn", "Thị", "Đức", "Minh", "Ngọc", "Thu", "Hữu", "Quang", "Thanh", "Xuân"];
const GIVEN: [&str; 24] = [
    "Dũng", "Hương", "Hà", "Thắng", "Ánh", "Khoa", "Long", "Lan", "Mai", "Hùng", "Tuấn", "Hải", "Phương", "Trang",
    "Linh", "Nam", "Sơn", "Bình", "Cường", "Thảo", "Yến", "Quý", "Đạt", "Nhung",
];
const UNITS: [&str; 12] = [
    "Văn phòng UBND thành phố",
    "Sở Kế hoạch và Đầu tư",
    "Sở Thông tin và Truyền thông",
    "Sở Tài chính",
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "UBND quận Hải Châu",
    "UBND quận Thanh Khê",
    "UBND quận Sơn Trà",
    "UBND quận Ngũ Hành Sơn",
    "UBND quận Liên Chiểu",
    "UBND huyện Hòa Vang",
];

/// One generated account.
#[derive(Debug, Clone)]
pub struct Account {
    /// The local part of the mailbox, also the entry's `uid`: `dungnv`, `dungnv1`, …
    pub uid: String,
    pub mail: String,
    pub dn: String,
    family: &'static str,
    middle: &'static str,
    given: &'static str,
    unit: &'static str,
    /// `entryUUID`, the OIDC `sub`.
    uuid: String,
}

impl Account {
    pub fn name(&self) -> String {
        format!("{} {} {}", self.family, self.middle, self.given)
    }

    /// The account as the directory describes it to the service.
    pub fn user(&self) -> danang_sso::directory::User {
        danang_sso::directory::User {
            id: self.uuid.clone(),
            mail: self.mail.clone(),
            name: self.name(),
            given_name: Some(self.given.into()),
            family_name: Some(self.family.into()),
            groups: Vec::new(),
            unit: Some(self.unit.into()),
            kind: danang_sso::directory::MailboxKind::Personal,
        }
    }
}

/// `count` accounts, the same ones on every run.
pub fn generate(count: usize) -> Vec<Account> {
    let mut taken: HashMap<String, usize> = HashMap::new();
    (0..count)
        .map(|i| {
            let mixed = splitmix64(i as u64);
            let pick = |n: usize, shift: u32| ((mixed >> shift) as usize) % n;
            let (family, middle, given) = (FAMILY[pick(16, 0)], MIDDLE[pick(10, 8)], GIVEN[pick(24, 16)]);
            let base = format!("{}{}{}", ascii(given), initial(family), initial(middle));
            let seen = taken.entry(base.clone()).or_insert(0);
            let uid = if *seen == 0 { base } else { format!("{base}{seen}") };
            *seen += 1;
            Account {
                mail: format!("{uid}@danang.gov.vn"),
                dn: format!("uid={uid},ou=people,dc=danang,dc=gov,dc=vn"),
                uid,
                family,
                middle,
                given,
                unit: UNITS[pick(UNITS.len(), 24)],
                uuid: uuid(mixed, splitmix64(mixed)),
            }
        })
        .collect()
}

/// The accounts as LDIF records (UTF-8 values as they are: slapadd and our reader both take them), each with
/// `password` as its `userPassword` value: `{SSHA}…` for slapd, `{ARGON2}…` for the embedded directory.
pub fn ldif(accounts: &[Account], password: &str) -> String {
    let mut out = String::with_capacity(accounts.len() * 400);
    for a in accounts {
        out += &format!(
            "dn: {}\nobjectClass: inetOrgPerson\nuid: {}\ncn: {}\ngivenName: {}\nsn: {}\nmail: {}\nou: {}\n\
             employeeType: person\nentryUUID: {}\nuserPassword: {password}\n\n",
            a.dn,
            a.uid,
            a.name(),
            a.given,
            a.family,
            a.mail,
            a.unit,
            a.uuid
        );
    }
    out
}

/// How many groups the accounts are spread over (`nhom-00` …), each account a member of one.
pub const GROUPS: usize = 20;

/// Group entries (`groupOfNames` under `ou=groups`) naming every account as a member of one of [`GROUPS`]: added
/// with `ldapadd` through the running slapd, so its memberOf overlay writes `memberOf` into each account as a
/// production directory would (the accounts themselves go in with `slapadd`, which bypasses overlays).
pub fn groups_ldif(accounts: &[Account], base_dn: &str) -> String {
    let mut out = String::with_capacity(accounts.len() * 80);
    for g in 0..GROUPS {
        out += &format!("dn: cn=nhom-{g:02},ou=groups,{base_dn}\nobjectClass: groupOfNames\ncn: nhom-{g:02}\n");
        for a in accounts.iter().skip(g).step_by(GROUPS) {
            out += &format!("member: {}\n", a.dn);
        }
        out += "\n";
    }
    out
}

/// Vietnamese letters without their marks, lower case: `Dũng` → `dung`, `Đặng` → `dang`.
fn ascii(text: &str) -> String {
    // NFD splits `ũ` into `u` and a combining tilde; `đ` is a letter of its own.
    text.nfd()
        .filter_map(|c| match c {
            'đ' | 'Đ' => Some('d'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

/// The first letter of a name, as a mailbox writes it: `Đỗ` → `d`.
fn initial(name: &str) -> String {
    ascii(name).chars().take(1).collect()
}

/// A well-mixed 64-bit value from a counter (SplitMix64), so names and ids spread without a random source.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A version-4-shaped UUID from 128 bits.
fn uuid(a: u64, b: u64) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}
