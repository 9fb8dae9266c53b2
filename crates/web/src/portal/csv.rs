//! CSV downloads (RFC 4180): every cell quoted when it needs to be, and a cell a spreadsheet
//! would read as a formula (`=`, `+`, `-`, `@`, or a tab or carriage return first) written
//! with a leading `'`, so a name like `=HYPERLINK(...)` stays text when the file is opened.

use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One cell, safe to open in a spreadsheet and quoted when it holds `,` `"` or a line break.
pub fn cell(value: &str) -> String {
    let value = match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// A table: a header line, then a line per row, each ending in CRLF.
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut text = String::new();
    let line = |text: &mut String, cells: &mut dyn Iterator<Item = String>| {
        text.push_str(&cells.collect::<Vec<_>>().join(","));
        text.push_str("\r\n");
    };
    line(&mut text, &mut header.iter().map(|h| cell(h)));
    for row in rows {
        line(&mut text, &mut row.iter().map(|v| cell(v)));
    }
    text
}

/// A download: `text/csv` saved as `filename` (ours, ASCII), not cached.
pub fn download(filename: &str, body: String) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        for formula in ["=1+2", "+1", "-1", "@SUM(A1)", "\tx"] {
            assert!(cell(formula).starts_with('\''), "{formula}");
        }
        assert_eq!(cell("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn tables_end_lines_in_crlf() {
        let text = table(&["a", "b"], vec![vec!["1".to_owned(), "x,y".to_owned()]]);
        assert_eq!(text, "a,b\r\n1,\"x,y\"\r\n");
    }
}
