//! Page requests and the numbers every paged list reports.

use crate::FieldErrors;

pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 500;

/// A validated `page` (1-based) and `per_page` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { page: 1, per_page: DEFAULT_PER_PAGE }
    }
}

impl PageRequest {
    /// Parses the raw query values; a `per_page` above the cap is lowered to it.
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut positive = |field: &str, raw: Option<&str>, default: u32| match raw.map(str::trim) {
            None | Some("") => default,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    errors.add(field, "must be a positive integer");
                    default
                }
            },
        };
        let page = positive("page", page, 1);
        let per_page = positive("per_page", per_page, DEFAULT_PER_PAGE).min(MAX_PER_PAGE);
        errors.into_result(Self { page, per_page })
    }

    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }

    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }

    pub fn total_pages(self, total_entries: i64) -> i64 {
        let per_page = i64::from(self.per_page);
        (total_entries.max(0) + per_page - 1) / per_page
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_and_validation() {
        assert_eq!(PageRequest::parse(None, None).unwrap(), PageRequest { page: 1, per_page: 50 });
        assert_eq!(PageRequest::parse(Some("2"), Some("100000")).unwrap().per_page, MAX_PER_PAGE);
        let errors = PageRequest::parse(Some("0"), Some("x")).unwrap_err();
        assert!(errors.get("page").is_some() && errors.get("per_page").is_some());
    }

    #[test]
    fn empty_list_has_zero_pages() {
        assert_eq!(PageRequest::default().total_pages(0), 0);
        assert_eq!(PageRequest::default().total_pages(50), 1);
        assert_eq!(PageRequest::default().total_pages(51), 2);
    }

    proptest! {
        #[test]
        fn pages_cover_every_entry_exactly(total in 0i64..100_000, per_page in 1u32..=MAX_PER_PAGE) {
            let req = PageRequest { page: 1, per_page };
            let pages = req.total_pages(total);
            prop_assert!(pages * i64::from(per_page) >= total);
            prop_assert!(pages == 0 || (pages - 1) * i64::from(per_page) < total);
        }
    }
}
