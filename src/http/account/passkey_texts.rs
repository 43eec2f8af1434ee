//! What the passkey parts of the account and second-factor pages say, in Vietnamese (first) and English.

use crate::i18n::Lang;

pub struct PasskeyTexts {
    pub passkeys: &'static str,
    pub add: &'static str,
    pub add_intro: &'static str,
    pub name_label: &'static str,
    pub name_hint: &'static str,
    pub default_name: &'static str,
    pub create: &'static str,
    pub use_passkey: &'static str,
    pub or_code: &'static str,
    pub needs_script: &'static str,
    pub browser_failed: &'static str,
    pub refused: &'static str,
    pub created: &'static str,
    pub last_used: &'static str,
    pub never: &'static str,
    pub or_passkey: &'static str,
}

pub fn passkey_texts(lang: Lang) -> &'static PasskeyTexts {
    match lang {
        Lang::Vi => &VI,
        Lang::En => &EN,
    }
}

static VI: PasskeyTexts = PasskeyTexts {
    passkeys: "Khóa truy cập (passkey)",
    add: "Thêm khóa truy cập",
    add_intro: "Dùng vân tay, khuôn mặt, mã PIN của máy tính hoặc điện thoại, hoặc một khóa bảo mật USB làm bước xác thực thứ hai.",
    name_label: "Tên khóa",
    name_hint: "Để nhận ra khóa này sau, ví dụ “Laptop ở cơ quan”.",
    default_name: "Khóa truy cập",
    create: "Tạo khóa truy cập",
    use_passkey: "Dùng khóa truy cập",
    or_code: "Hoặc nhập mã:",
    needs_script: "Khóa truy cập cần JavaScript. Bạn vẫn có thể dùng mã xác thực.",
    browser_failed: "Trình duyệt không tạo hoặc dùng được khóa truy cập (đã hủy hoặc không hỗ trợ). Vui lòng thử lại.",
    refused: "Khóa truy cập không được chấp nhận. Vui lòng thử lại.",
    created: "Tạo lúc",
    last_used: "Dùng lần cuối",
    never: "chưa dùng",
    or_passkey: "Hoặc dùng khóa truy cập (vân tay, khuôn mặt, khóa bảo mật)",
};

static EN: PasskeyTexts = PasskeyTexts {
    passkeys: "Passkeys",
    add: "Add a passkey",
    add_intro: "Use your computer's or phone's fingerprint, face or PIN, or a USB security key, as the second step.",
    name_label: "Name",
    name_hint: "To recognise this passkey later, e.g. “Office laptop”.",
    default_name: "Passkey",
    create: "Create the passkey",
    use_passkey: "Use a passkey",
    or_code: "Or type a code:",
    needs_script: "Passkeys need JavaScript. You can still use a code.",
    browser_failed: "The browser did not create or use a passkey (cancelled or not supported). Please try again.",
    refused: "The passkey was not accepted. Please try again.",
    created: "Added",
    last_used: "Last used",
    never: "never",
    or_passkey: "Or use a passkey (fingerprint, face, security key)",
};
