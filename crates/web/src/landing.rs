//! `GET /{xid}`: find the offer on its channel, check the link, hand the visitor their code
//! through the credential rules, record the impression, render.

use crate::render::{self, Frame};
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use kindling_domain::landing::{self, View};
use kindling_domain::member::Identifier;
use kindling_domain::offers::offer::is_offering;
use kindling_domain::offers::status::OfferStatus;
use kindling_domain::Timestamp;
use kindling_store::landing::{Page, Visitor};
use kindling_store::{Db, StoreError};
use quick_cache::sync::Cache;
use serde_json::{json, Map};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The cookie that makes an anonymous visitor the same member on their next visit.
pub const VISITOR_COOKIE: &str = "kindling_visitor";

/// The visitor cookie lasts a year: as long as a returning visitor should find their code.
const VISITOR_COOKIE_MAX_AGE: u64 = 365 * 24 * 3600;

/// Rendered pages kept, keyed by everything they show.
const FRAMES: usize = 4096;

/// The database and the page cache. The cache is keyed by a hash of the page's facts and
/// its view and holds those facts beside the frame, so a change to the offer, its
/// formatting, its channel or its merchant is a different key: nothing stale is ever
/// served, in any process, and no invalidation message is needed.
#[derive(Clone)]
pub struct WebState {
    db: Db,
    frames: Arc<Cache<u64, Arc<Cached>>>,
}

/// A rendered frame with the facts and view it was rendered from (checked on every hit, so
/// a hash collision renders afresh instead of showing another page).
struct Cached {
    page: Page,
    view: View,
    frame: Frame,
}

impl WebState {
    pub fn new(db: Db) -> Self {
        Self { db, frames: Arc::new(Cache::new(FRAMES)) }
    }

    fn frame(&self, page: &Page, view: View) -> Arc<Cached> {
        let mut hasher = std::hash::DefaultHasher::new();
        (page, view).hash(&mut hasher);
        let key = hasher.finish();
        if let Some(hit) = self.frames.get(&key) {
            if hit.page == *page && hit.view == view {
                return hit;
            }
        }
        let built = Arc::new(Cached { page: page.clone(), view, frame: render::frame(page, view) });
        self.frames.insert(key, built.clone());
        built
    }
}

/// The link's query parameters this page reads (the first of each; others are ignored).
#[derive(Debug, Default)]
struct Params {
    printable: Option<String>,
    sf_uid: Option<String>,
    sf_ac: Option<String>,
    expires: Option<String>,
    sig: Option<String>,
}

impl Params {
    fn parse(query: Option<&str>) -> Self {
        let mut params = Self::default();
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "printable" => &mut params.printable,
                "sf_uid" => &mut params.sf_uid,
                "sf_ac" => &mut params.sf_ac,
                "expires" => &mut params.expires,
                "sig" => &mut params.sig,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        params
    }
}

/// No script at all, images over https only: escaping is the first defence, this the second.
const CSP: &str = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

fn html(status: StatusCode, body: String) -> Response {
    crate::page::html(status, body, CSP)
}

fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        render::message("not-found", "Offer not found", "This offer does not exist or is no longer available."),
    )
}

fn store_failure(e: &StoreError) -> Response {
    tracing::error!(error = %e, "landing page store error");
    let busy = matches!(e, StoreError::Busy(_) | StoreError::Closed(_));
    let (status, text) = if busy {
        (StatusCode::SERVICE_UNAVAILABLE, "We are busy right now. Please reload the page in a moment.")
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong. Please reload the page.")
    };
    let mut response = html(status, render::message("error", "Please try again", text));
    if busy {
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// The visitor cookie the browser sent, if it is one we could have issued.
fn visitor_cookie(headers: &HeaderMap) -> Option<String> {
    crate::page::cookie(headers, VISITOR_COOKIE, landing::is_visitor_cookie).map(str::to_owned)
}

/// `GET /{xid}`.
pub async fn landing(
    State(web): State<WebState>,
    Path(xid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    // Xids are short base62; anything else names no page (and costs no query).
    if xid.is_empty() || xid.len() > 64 || !xid.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return not_found();
    }
    let page = match kindling_store::landing::page(&web.db, &xid).await {
        Ok(Some(page)) => page,
        Ok(None) => return not_found(),
        Err(e) => return store_failure(&e),
    };
    let now = Timestamp::now();
    // The guide: an offer must be approved "before it will appear correctly on the landing
    // page"; past its dates (or its stop-offering time) it is gone as well.
    if page.status != OfferStatus::Approved || !is_offering(page.status, &page.window(), now) {
        return not_found();
    }
    let params = Params::parse(query.as_deref());
    let signed = landing::requires_signature(page.security.as_deref(), page.security_key.as_deref(), page.allow_hmac);
    if signed {
        let key = page.security_key.as_deref().unwrap_or_default();
        if let Err(refusal) = landing::verify(
            key,
            &page.xid,
            params.sf_uid.as_deref(),
            params.expires.as_deref(),
            params.sig.as_deref(),
            now,
        ) {
            tracing::info!(xid = %page.xid, ?refusal, "landing link refused");
            return html(
                StatusCode::FORBIDDEN,
                render::message(
                    "forbidden",
                    "This link is not valid",
                    "Open the offer from the link you were sent; this one is incomplete or has expired.",
                ),
            );
        }
    }
    let sf_uid = match params.sf_uid.filter(|u| !u.trim().is_empty()).map(Identifier::parse).transpose() {
        Ok(uid) => uid,
        Err(_) => return bad_link("sf_uid is too long."),
    };
    let creative = params.sf_ac.filter(|a| !a.is_empty());
    if creative.as_ref().is_some_and(|a| a.chars().count() > Identifier::MAX_LEN) {
        return bad_link("sf_ac is too long.");
    }
    let (cookie, new_cookie) = match visitor_cookie(&headers) {
        Some(cookie) => (cookie, false),
        None => (uuid::Uuid::new_v4().simple().to_string(), true),
    };
    let formatting = page.formatting();
    let view = View::choose(
        params.printable.as_deref(),
        formatting.get("no_printable") == Some(&serde_json::Value::Bool(true)),
    );
    let mut annotations = Map::new();
    annotations.insert("view".into(), json!(view.as_str()));
    let visitor = Visitor {
        member_identifier: match &sf_uid {
            Some(uid) => uid.as_str().to_owned(),
            None => landing::visitor_identifier(&cookie),
        },
        cookie_id: cookie.clone(),
        vouched: signed || sf_uid.is_none(),
        creative_name: creative,
        annotations,
    };
    let handed = match kindling_store::landing::visit(&web.db, &page, visitor).await {
        Ok(handed) => handed,
        Err(e) => return store_failure(&e),
    };
    let frame = web.frame(&page, view);
    let body = frame.frame.with_code(&render::code_block(&handed, view, page.supports_barcode, &page));
    let mut response = html(StatusCode::OK, body);
    if new_cookie {
        let secure = headers.get("x-forwarded-proto").is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
        let cookie = format!(
            "{VISITOR_COOKIE}={cookie}; Path=/; Max-Age={VISITOR_COOKIE_MAX_AGE}; HttpOnly; SameSite=Lax{}",
            if secure { "; Secure" } else { "" }
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(SET_COOKIE, value);
        }
    }
    response
}

fn bad_link(text: &str) -> Response {
    html(StatusCode::BAD_REQUEST, render::message("bad-request", "This link is not valid", text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    #[test]
    fn query_parameters_first_wins_and_decoded() {
        let p = Params::parse(Some("printable=false&sf_uid=a%20b&sf_uid=c&sf_ac=spring+banner&other=1"));
        assert_eq!(p.printable.as_deref(), Some("false"));
        assert_eq!(p.sf_uid.as_deref(), Some("a b"));
        assert_eq!(p.sf_ac.as_deref(), Some("spring banner"));
        assert!(p.sig.is_none());
        assert!(Params::parse(None).sf_uid.is_none());
    }

    #[test]
    fn only_our_cookie_is_read() {
        let mut headers = HeaderMap::new();
        let ours = "0123456789abcdef0123456789abcdef";
        headers.insert(COOKIE, HeaderValue::from_str(&format!("a=b; {VISITOR_COOKIE}={ours}; c=d")).unwrap());
        assert_eq!(visitor_cookie(&headers).as_deref(), Some(ours));
        let mut forged = HeaderMap::new();
        forged.insert(COOKIE, HeaderValue::from_str(&format!("{VISITOR_COOKIE}=../../x")).unwrap());
        assert_eq!(visitor_cookie(&forged), None);
    }
}
