//! Response envelopes: `{"member": {..}, "errors": {}}` and the paged list shape.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use kindling_store::crud::Paged;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

pub const JSON_UTF8: &str = "application/json; charset=utf-8";

/// A JSON response with the platform's content type.
pub fn json(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{\"error\":\"serialization failed\"}".to_vec());
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    response
}

/// `{"<key>": value, "errors": {}}`.
pub struct Single<'a, T> {
    pub key: &'a str,
    pub value: &'a T,
}

impl<T: Serialize> Serialize for Single<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(self.key, self.value)?;
        map.serialize_entry("errors", &serde_json::Map::new())?;
        map.end()
    }
}

pub fn single<T: Serialize>(status: StatusCode, key: &str, value: &T) -> Response {
    json(status, &Single { key, value })
}

/// Like `single`, with a `Location` header for a newly created resource.
pub fn created<T: Serialize>(key: &str, value: &T, location: String) -> Response {
    let mut response = single(StatusCode::CREATED, key, value);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `{"page","per_page","total_entries","total_pages","<plural>":[{"<singular>":{..}}]}`.
pub struct PageEnvelope<'a, T> {
    pub plural: &'a str,
    /// Further keys that carry the same array.
    pub aliases: &'a [&'a str],
    pub singular: &'a str,
    pub paged: &'a Paged<T>,
}

impl<T: Serialize> Serialize for PageEnvelope<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Wrapped<'a, T>(&'a str, &'a T);
        impl<T: Serialize> Serialize for Wrapped<'_, T> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(self.0, self.1)?;
                map.end()
            }
        }
        let page = self.paged.page;
        let items: Vec<_> = self.paged.items.iter().map(|item| Wrapped(self.singular, item)).collect();
        let mut map = serializer.serialize_map(Some(5 + self.aliases.len()))?;
        map.serialize_entry("page", &page.page)?;
        map.serialize_entry("per_page", &page.per_page)?;
        map.serialize_entry("total_entries", &self.paged.total_entries)?;
        map.serialize_entry("total_pages", &page.total_pages(self.paged.total_entries))?;
        map.serialize_entry(self.plural, &items)?;
        for alias in self.aliases {
            map.serialize_entry(alias, &items)?;
        }
        map.end()
    }
}

pub fn paged<T: Serialize>(plural: &str, singular: &str, paged: &Paged<T>) -> Response {
    paged_with_aliases(plural, &[], singular, paged)
}

pub fn paged_with_aliases<T: Serialize>(plural: &str, aliases: &[&str], singular: &str, paged: &Paged<T>) -> Response {
    json(StatusCode::OK, &PageEnvelope { plural, aliases, singular, paged })
}

/// The body of operations the spec lists without one (deletes, toggles).
pub fn empty_ok() -> Response {
    json(StatusCode::OK, &serde_json::Map::new())
}
