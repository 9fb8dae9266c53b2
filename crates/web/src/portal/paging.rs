//! Paging for the people pages: 50 rows a page (`?page=`), and the pager's links, which
//! keep the page's other parameters.

use super::pages::param;
use minijinja::{context, Value};

pub const PER_PAGE: i64 = 50;

/// The requested page (1 when missing or not a number).
pub fn requested(query: Option<&str>) -> i64 {
    param(query, "page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).clamp(1, 1_000_000)
}

/// The rows to skip for `page`.
pub fn offset(page: i64) -> i64 {
    (page - 1) * PER_PAGE
}

/// `path?name=value&page=N`, blank values left out.
pub fn url(path: &str, params: &[(&str, &str)], page: i64) -> String {
    let mut url = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params.iter().filter(|(_, v)| !v.is_empty()) {
        url.append_pair(name, value);
    }
    url.append_pair("page", &page.to_string());
    format!("{path}?{}", url.finish())
}

/// The pager's part of a page's context: `page`, `pages`, `prev`, `next`, `total`.
pub fn pager(path: &str, params: &[(&str, &str)], page: i64, total: i64) -> Value {
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    context! {
        total => total,
        page => page,
        pages => pages,
        prev => (page > 1).then(|| url(path, params, (page - 1).min(pages))),
        next => (page < pages).then(|| url(path, params, page + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_filters() {
        assert_eq!(url("/admin/members", &[("q", "a b"), ("exact", "")], 2), "/admin/members?q=a+b&page=2");
        assert_eq!(offset(3), 100);
        assert_eq!(requested(Some("page=x")), 1);
    }
}
