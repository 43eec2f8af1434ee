//! What the pages say, in Vietnamese (the default, TCVN 6909 Unicode) and English.
//!
//! The language comes from `ui_locales` when the app asks for one, else from `Accept-Language`; Vietnamese wins ties.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// Picks the language from `ui_locales` (space-separated, in order of preference), then `Accept-Language`.
    pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>) -> Lang {
        let from_tags = |tags: &mut dyn Iterator<Item = &str>| {
            tags.map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase()).find_map(|t| {
                match t.split('-').next() {
                    Some("vi") => Some(Lang::Vi),
                    Some("en") => Some(Lang::En),
                    _ => None,
                }
            })
        };
        ui_locales
            .and_then(|u| from_tags(&mut u.split_whitespace()))
            .or_else(|| accept_language.and_then(|a| from_tags(&mut a.split(','))))
            .unwrap_or_default()
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// "45 giây", "15 phút": whole minutes from two minutes on, rounded up.
    pub fn duration(self, secs: u64) -> String {
        let t = self.texts();
        if secs < 120 { format!("{secs} {}", t.seconds) } else { format!("{} {}", secs.div_ceil(60), t.minutes) }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }
}

/// Every fixed string a page shows.
pub struct Texts {
    pub service: &'static str,
    pub sign_in_to: &'static str,
    pub sign_in: &'static str,
    pub mailbox: &'static str,
    pub mailbox_hint: &'static str,
    pub password: &'static str,
    pub submit: &'static str,
    pub error_title: &'static str,
    pub bad_credentials: &'static str,
    pub domain_refused: &'static str,
    pub directory_down: &'static str,
    pub store_down: &'static str,
    pub unknown_client: &'static str,
    pub bad_redirect_uri: &'static str,
    pub bad_request: &'static str,
    pub internal: &'static str,
    pub other_language: &'static str,
    pub other_language_code: &'static str,
    pub continue_title: &'static str,
    pub continue_button: &'static str,
    /// `{wait}` is replaced by a duration such as "45 giây".
    pub throttled: &'static str,
    pub seconds: &'static str,
    pub minutes: &'static str,
    pub form_expired: &'static str,
    /// `{days}` is replaced by `[policy] dormant_after_days`.
    pub dormant: &'static str,
    pub logged_out_title: &'static str,
    pub logged_out_message: &'static str,
    pub return_to_app: &'static str,
    pub confirm_logout_title: &'static str,
    pub confirm_logout_question: &'static str,
    pub confirm_logout_button: &'static str,
    /// The SAML logout confirmation: `{app}` is the SP's name; the button that keeps the session.
    pub confirm_saml_logout_question: &'static str,
    pub stay_signed_in_button: &'static str,
}

pub static VI: Texts = Texts {
    service: "Đăng nhập một lần — Thành phố Đà Nẵng",
    sign_in_to: "Đăng nhập để vào",
    sign_in: "Đăng nhập",
    mailbox: "Hộp thư công vụ",
    mailbox_hint: "Ví dụ: dungnv hoặc dungnv@danang.gov.vn",
    password: "Mật khẩu",
    submit: "Đăng nhập",
    error_title: "Không thể tiếp tục",
    bad_credentials: "Hộp thư hoặc mật khẩu không đúng.",
    domain_refused: "Chỉ tài khoản thư công vụ @danang.gov.vn mới được đăng nhập vào hệ thống dùng chung của thành phố.",
    directory_down: "Hệ thống thư công vụ tạm thời không phản hồi. Vui lòng thử lại sau ít phút.",
    store_down: "Dịch vụ đăng nhập tạm thời gián đoạn. Vui lòng thử lại sau ít phút.",
    unknown_client: "Ứng dụng yêu cầu đăng nhập chưa được đăng ký với hệ thống.",
    bad_redirect_uri: "Địa chỉ chuyển về của ứng dụng không khớp với địa chỉ đã đăng ký.",
    bad_request: "Yêu cầu không hợp lệ.",
    internal: "Đã có lỗi trong hệ thống. Vui lòng thử lại sau.",
    other_language: "English",
    other_language_code: "en",
    continue_title: "Đang chuyển về ứng dụng",
    continue_button: "Tiếp tục",
    throttled: "Bạn đã đăng nhập sai nhiều lần. Vui lòng đợi {wait} rồi thử lại.",
    seconds: "giây",
    minutes: "phút",
    form_expired: "Biểu mẫu đăng nhập đã hết hạn. Vui lòng nhập lại.",
    dormant: "Hộp thư của bạn không được sử dụng quá {days} ngày nên đã tạm ngừng hoạt động theo quy chế sử dụng \
              hệ thống thư điện tử của thành phố. Vui lòng đề nghị Chánh Văn phòng cơ quan, đơn vị của bạn gửi yêu cầu \
              kích hoạt lại hộp thư.",
    logged_out_title: "Bạn đã đăng xuất",
    logged_out_message: "Bạn đã đăng xuất khỏi hệ thống đăng nhập một lần và các ứng dụng dùng chung của thành phố.",
    return_to_app: "Quay về ứng dụng",
    confirm_logout_title: "Đăng xuất",
    confirm_logout_question: "Bạn có muốn đăng xuất khỏi tất cả ứng dụng dùng chung của thành phố không?",
    confirm_logout_button: "Đăng xuất",
    confirm_saml_logout_question: "Ứng dụng {app} đề nghị đăng xuất. Bạn có muốn đăng xuất khỏi tất cả ứng dụng dùng chung của thành phố không?",
    stay_signed_in_button: "Vẫn giữ đăng nhập",
};

pub static EN: Texts = Texts {
    service: "Single sign-on — Da Nang City",
    sign_in_to: "Sign in to",
    sign_in: "Sign in",
    mailbox: "Government mailbox",
    mailbox_hint: "For example: dungnv or dungnv@danang.gov.vn",
    password: "Password",
    submit: "Sign in",
    error_title: "Cannot continue",
    bad_credentials: "Wrong mailbox or password.",
    domain_refused: "Only @danang.gov.vn government mailboxes may sign in to the city's shared services.",
    directory_down: "The mail directory is not answering right now. Please try again in a few minutes.",
    store_down: "The sign-in service is briefly interrupted. Please try again in a few minutes.",
    unknown_client: "The application asking you to sign in is not registered.",
    bad_redirect_uri: "The application's return address does not match the registered one.",
    bad_request: "The request is not valid.",
    internal: "Something went wrong on our side. Please try again later.",
    other_language: "Tiếng Việt",
    other_language_code: "vi",
    continue_title: "Returning to the application",
    continue_button: "Continue",
    throttled: "Too many failed sign-ins. Please wait {wait} and try again.",
    seconds: "seconds",
    minutes: "minutes",
    form_expired: "The sign-in form has expired. Please try again.",
    dormant: "Your mailbox has not been used for more than {days} days and has been suspended under the city's mail \
              rules. Please ask your unit's chief of office (Chánh Văn phòng) to request its re-activation.",
    logged_out_title: "You are signed out",
    logged_out_message: "You have signed out of single sign-on and of the city's shared applications.",
    return_to_app: "Return to the application",
    confirm_logout_title: "Sign out",
    confirm_logout_question: "Do you want to sign out of all the city's shared applications?",
    confirm_logout_button: "Sign out",
    confirm_saml_logout_question: "{app} asks to sign you out. Do you want to sign out of all the city's shared applications?",
    stay_signed_in_button: "Stay signed in",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_locales_beats_accept_language_and_vietnamese_is_default() {
        assert_eq!(Lang::negotiate(None, None), Lang::Vi);
        assert_eq!(Lang::negotiate(Some("en-US vi"), Some("vi")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr"), Some("en-GB,en;q=0.8")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("fr-FR, vi;q=0.9, en;q=0.5")), Lang::Vi);
        assert_eq!(Lang::negotiate(None, Some("de")), Lang::Vi);
    }
}
