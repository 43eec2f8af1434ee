//! What the pages say, in Vietnamese (the default, TCVN 6909 Unicode) and English.
//!
//! Which language a page speaks is [`Lang::choose`]: the person's own pick, else the app's `ui_locales`, else —
//! only when `[ui] follow_browser_language` — the browser's `Accept-Language`, else `[ui] default_language`
//! (Vietnamese). Many office computers run English-language Windows, so by default the browser does not decide.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    /// The first of `tags` (`en-US`, `vi;q=0.9`) that names a language we speak.
    fn from_tags<'a>(tags: impl Iterator<Item = &'a str>) -> Option<Lang> {
        tags.filter_map(|t| Lang::parse(t.split(';').next().unwrap_or(""))).next()
    }

    /// `vi`, `vi-VN`, `en`, `en-US` (any case); anything else is not a language we speak.
    pub fn parse(tag: &str) -> Option<Lang> {
        match tag.trim().to_ascii_lowercase().split('-').next() {
            Some("vi") => Some(Lang::Vi),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the language from `ui_locales` (space-separated, in order of preference), then `Accept-Language`,
    /// Vietnamese when neither names one we speak (the rule when the browser is followed).
    pub fn negotiate(ui_locales: Option<&str>, accept_language: Option<&str>) -> Lang {
        Lang::choose(LangRule { default: Lang::Vi, follow_browser: true }, None, ui_locales, accept_language)
    }

    /// The page language: the person's pick (`picked`, the language cookie), the app's `ui_locales`, the
    /// browser's `Accept-Language` when the rule follows it, else the rule's default.
    pub fn choose(
        rule: LangRule,
        picked: Option<&str>,
        ui_locales: Option<&str>,
        accept_language: Option<&str>,
    ) -> Lang {
        picked
            .and_then(Lang::parse)
            .or_else(|| ui_locales.and_then(|u| Lang::from_tags(u.split_whitespace())))
            .or_else(|| accept_language.filter(|_| rule.follow_browser).and_then(|a| Lang::from_tags(a.split(','))))
            .unwrap_or(rule.default)
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

/// `[ui] default_language` and `[ui] follow_browser_language`.
#[derive(Debug, Clone, Copy)]
pub struct LangRule {
    pub default: Lang,
    pub follow_browser: bool,
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
    /// The help line's label (before `[ui] support_contact`) and the "forgot password" link.
    pub need_help: &'static str,
    pub forgot_password: &'static str,
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
    need_help: "Cần hỗ trợ:",
    forgot_password: "Quên mật khẩu?",
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
    need_help: "Need help:",
    forgot_password: "Forgot your password?",
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

    #[test]
    fn vietnamese_unless_asked_and_the_persons_pick_first() {
        let city = LangRule { default: Lang::Vi, follow_browser: false };
        // An English-language Windows browser still gets Vietnamese…
        assert_eq!(Lang::choose(city, None, None, Some("en-US,en;q=0.9")), Lang::Vi);
        // …unless the app asks, or the person picked English on the page.
        assert_eq!(Lang::choose(city, None, Some("en"), Some("vi")), Lang::En);
        assert_eq!(Lang::choose(city, Some("en"), None, Some("vi")), Lang::En);
        // The person's own pick beats the app's hint; a cookie we do not understand is no pick.
        assert_eq!(Lang::choose(city, Some("vi"), Some("en"), None), Lang::Vi);
        assert_eq!(Lang::choose(city, Some("fr"), Some("en"), None), Lang::En);
        // Following the browser is the operator's choice.
        let follow = LangRule { default: Lang::Vi, follow_browser: true };
        assert_eq!(Lang::choose(follow, None, None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(follow, None, Some("vi"), Some("en-US")), Lang::Vi);
        let english = LangRule { default: Lang::En, follow_browser: false };
        assert_eq!(Lang::choose(english, None, None, Some("vi")), Lang::En);
        assert_eq!(Lang::parse("EN-gb"), Some(Lang::En));
        assert_eq!(Lang::parse("vie"), None);
    }
}
