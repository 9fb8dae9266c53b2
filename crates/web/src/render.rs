//! The templates (crates/web/templates, compiled into the binary) and what they are given.
//! minijinja escapes every value in an `.html` template, so offer text renders as text; only
//! our own markup (the code block, the SVG pictures) is passed through `|safe`.

use crate::codes;
use kindling_domain::credentials::rules::Refusal;
use kindling_domain::landing::View;
use kindling_domain::offers::formatting::{is_color, is_https_url};
use kindling_store::landing::{Handed, Page};
use minijinja::{context, Environment};
use serde_json::{Map, Value as Json};
use std::sync::LazyLock;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("../templates/base.html")),
        ("landing.html", include_str!("../templates/landing.html")),
        ("code.html", include_str!("../templates/code.html")),
        ("message.html", include_str!("../templates/message.html")),
    ] {
        env.add_template(name, source).expect("templates parse (checked by the tests)");
    }
    env
});

/// Where a page's code block goes. Every value a template shows is escaped, so no offer
/// text can produce this comment; splitting a rendered page here is safe.
const CODE_SLOT: &str = "<!--kindling:code-->";

/// A rendered landing page without its visitor's code: what the page cache keeps.
#[derive(Debug)]
pub struct Frame {
    before: String,
    after: String,
}

impl Frame {
    pub fn with_code(&self, code_block: &str) -> String {
        let mut page = String::with_capacity(self.before.len() + code_block.len() + self.after.len());
        page.push_str(&self.before);
        page.push_str(code_block);
        page.push_str(&self.after);
        page
    }
}

fn text(formatting: &Map<String, Json>, key: &str) -> Option<String> {
    formatting.get(key).and_then(Json::as_str).filter(|s| !s.trim().is_empty()).map(str::to_owned)
}

/// An image option, if it is https (older rows may hold other URLs; they are not shown).
fn image(formatting: &Map<String, Json>, key: &str) -> Option<String> {
    text(formatting, key).filter(|u| is_https_url(u))
}

/// Black or white, whichever reads better on `color` (`#rgb`, `#rrggbb` or `#rrggbbaa`).
fn text_color(color: &str) -> &'static str {
    let hex = color.trim_start_matches('#');
    let channel = |i: usize| -> f64 {
        let digits = if hex.len() == 3 { hex[i..i + 1].repeat(2) } else { hex[2 * i..2 * i + 2].to_owned() };
        f64::from(u8::from_str_radix(&digits, 16).unwrap_or(0)) / 255.0
    };
    let luminance = 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
    if luminance > 0.6 {
        "#111111"
    } else {
        "#ffffff"
    }
}

/// The page of `page` in `view`, with the code slot left open.
pub fn frame(page: &Page, view: View) -> Frame {
    let formatting = page.formatting();
    let bg_color = text(&formatting, "bg_color").filter(|c| is_color(c));
    let image_key = match view {
        View::Printable => "web_url",
        View::Mobile => "mobile_url",
    };
    let html = TEMPLATES
        .get_template("landing.html")
        .and_then(|t| {
            t.render(context! {
                view => view.as_str(),
                title => text(&formatting, "short_name").unwrap_or_else(|| page.name.clone()),
                name => page.name,
                merchant_name => page.merchant_name,
                description => page.description,
                terms => page.terms_and_conditions,
                instructions => text(&formatting, "instructions"),
                extra_content => text(&formatting, "extra_content"),
                in_store_only => formatting.get("in_store_only") == Some(&Json::Bool(true)),
                text_color => bg_color.as_deref().map(text_color),
                bg_color => bg_color,
                bg_image => image(&formatting, "bg_image"),
                image => image(&formatting, image_key),
                code_block => CODE_SLOT,
            })
        })
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "landing template failed");
            format!("<!doctype html><title>Offer</title>{CODE_SLOT}")
        });
    let (before, after) = html.split_once(CODE_SLOT).unwrap_or((&html, ""));
    Frame { before: before.to_owned(), after: after.to_owned() }
}

/// A code as the page shows it (with its picture when barcodes are supported); the Admin
/// Portal's preview shows a sample code through this too.
pub fn shown_code(code: &str, view: View, supports_barcode: bool, page: &Page, returning: bool) -> String {
    let picture = |wanted: View| (supports_barcode && view == wanted).then_some(code);
    TEMPLATES
        .get_template("code.html")
        .and_then(|t| {
            t.render(context! {
                code => code,
                barcode => picture(View::Printable).and_then(codes::code128),
                qr => picture(View::Mobile).and_then(codes::qr),
                custom_content => text(&page.formatting(), "custom_credential_content"),
                returning => returning,
                view => view.as_str(),
            })
        })
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "code template failed");
            String::new()
        })
}

/// What a visitor is told when no code is handed out.
fn refusal_message(refusal: &Refusal) -> &'static str {
    match refusal.status() {
        "max_redemptions" | "max_per_channel" => "All codes for this offer have been claimed.",
        "max_per_member" => "You have already used this offer as many times as it allows.",
        "max_per_member_per_day" => "You have already used this offer today. Come back tomorrow.",
        "member_not_in_list" => "This offer is not available to you.",
        _ => "This offer is no longer available.",
    }
}

/// The visitor's part of the page: their code (with its picture when the merchant or
/// account supports barcodes), or why there is none.
pub fn code_block(handed: &Handed, view: View, supports_barcode: bool, page: &Page) -> String {
    let template = TEMPLATES.get_template("code.html");
    let rendered = match handed {
        Handed::Code { credential, returning } => {
            let code = credential.identifier.clone().unwrap_or_default();
            return shown_code(&code, view, supports_barcode, page, *returning);
        }
        Handed::AlreadyClaimed => template.and_then(|t| t.render(context! { claimed => true })),
        Handed::Refused(refusal) => template.and_then(|t| t.render(context! { message => refusal_message(refusal) })),
        Handed::Unavailable(_) => template.and_then(|t| {
            t.render(context! { message => "Something went wrong handing out your code. Please reload the page." })
        }),
    };
    rendered.unwrap_or_else(|e| {
        tracing::error!(error = %e, "code template failed");
        String::new()
    })
}

/// A page that only says something (not found, forbidden, ...); `id` is its main element's.
pub fn message(id: &str, heading: &str, text: &str) -> String {
    TEMPLATES
        .get_template("message.html")
        .and_then(|t| t.render(context! { id => id, heading => heading, text => text }))
        .unwrap_or_else(|_| heading.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders() {
        for name in ["base.html", "landing.html", "code.html", "message.html"] {
            TEMPLATES.get_template(name).unwrap().render(context! {}).unwrap();
        }
    }

    #[test]
    fn messages_escape_their_text() {
        let page = message("not-found", "<b>x</b>", "<script>alert(1)</script>");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{page}");
        assert!(!page.contains("<script>"));
        assert!(page.contains("<main id=\"not-found\""));
    }

    #[test]
    fn readable_text_on_any_banner() {
        assert_eq!(text_color("#FF00AA"), "#ffffff");
        assert_eq!(text_color("#000"), "#ffffff");
        assert_eq!(text_color("#ffffff"), "#111111");
        assert_eq!(text_color("#FFFF00"), "#111111");
        assert_eq!(text_color("#ffffff80"), "#111111");
    }
}
