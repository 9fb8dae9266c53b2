//! Great-circle distance for "nearby" searches.

const EARTH_RADIUS_METERS: f64 = 6_371_008.8;

/// Haversine distance in whole meters between two (lat, lng) points in degrees.
pub fn distance_meters(a: (f64, f64), b: (f64, f64)) -> i64 {
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = (b.0 - a.0).to_radians();
    let dlng = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
    (2.0 * EARTH_RADIUS_METERS * h.sqrt().min(1.0).asin()).round() as i64
}

/// Parses a latitude/longitude pair from query strings; `None` when off the globe.
pub fn parse_point(lat: &str, lng: &str) -> Option<(f64, f64)> {
    let lat: f64 = lat.trim().parse().ok()?;
    let lng: f64 = lng.trim().parse().ok()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lng)).then_some((lat, lng))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_distances() {
        // Denver to Boulder is about 39 km.
        let d = distance_meters((39.7392, -104.9903), (40.01499, -105.27055));
        assert!((38_000..40_000).contains(&d), "{d}");
        assert_eq!(distance_meters((10.0, 10.0), (10.0, 10.0)), 0);
        assert_eq!(parse_point("91", "0"), None);
        assert_eq!(parse_point("north", "0"), None);
        assert_eq!(parse_point(" 39.7 ", "-104.9"), Some((39.7, -104.9)));
    }

    proptest! {
        #[test]
        fn symmetric_and_bounded(a in -90.0f64..90.0, b in -180.0f64..180.0, c in -90.0f64..90.0, d in -180.0f64..180.0) {
            let x = distance_meters((a, b), (c, d));
            prop_assert_eq!(x, distance_meters((c, d), (a, b)));
            prop_assert!((0..=20_016_000).contains(&x));
        }
    }
}
