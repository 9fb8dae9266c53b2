//! The dashboard's bar chart, drawn on the server as inline SVG: no script, and it scales
//! with the page. Its only text is our own (dates and numbers), yet it is escaped anyway.

use std::fmt::Write;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 180.0;
/// Room for the labels: left for the scale, bottom for the first and last date.
const LEFT: f64 = 28.0;
const BOTTOM: f64 = 20.0;
const TOP: f64 = 8.0;

use crate::codes::escape;

/// The dashboard's chart: one bar per `(day, count)`, oldest first.
pub fn bars(days: &[(String, i64)]) -> String {
    let (total, max) = sums(days);
    let label = format!("{total} codes redeemed in the last {} days; at most {max} in a day", days.len());
    chart(days, "redemptions-per-day", &label)
}

/// The total and the largest count (at least 1, the scale's top).
pub fn sums(days: &[(String, i64)]) -> (i64, i64) {
    (days.iter().map(|(_, n)| n).sum(), days.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1))
}

/// One bar per `(day, count)`, oldest first, with a `<title>` each (a tooltip, and what a
/// screen reader reads) and `label` as the picture's label.
pub fn chart(days: &[(String, i64)], id: &str, label: &str) -> String {
    let (_, max) = sums(days);
    let plot_height = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" id="{}">"#,
        escape(label),
        escape(id)
    );
    let base = HEIGHT - BOTTOM;
    let _ = write!(svg, r#"<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}"/>"#);
    let _ = write!(svg, r#"<text x="{}" y="{}" text-anchor="end">{max}</text>"#, LEFT - 4.0, TOP + 10.0);
    let _ = write!(svg, r#"<text x="{}" y="{base}" text-anchor="end">0</text>"#, LEFT - 4.0);
    for (i, (day, count)) in days.iter().enumerate() {
        let height = (*count as f64 / max as f64 * plot_height).max(if *count > 0 { 1.0 } else { 0.0 });
        let x = LEFT + i as f64 * slot + slot * 0.15;
        let _ = write!(
            svg,
            r#"<rect class="bar" data-day="{day}" data-count="{count}" x="{x:.1}" y="{:.1}" width="{:.1}" height="{height:.1}"><title>{}: {count}</title></rect>"#,
            base - height,
            slot * 0.7,
            escape(day),
            day = escape(day),
        );
    }
    if let (Some((first, _)), Some((last, _))) = (days.first(), days.last()) {
        let y = HEIGHT - 4.0;
        let _ = write!(svg, r#"<text x="{LEFT}" y="{y}">{}</text>"#, escape(first));
        let _ = write!(svg, r#"<text x="{WIDTH}" y="{y}" text-anchor="end">{}</text>"#, escape(last));
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bar_a_day_scaled_to_the_busiest() {
        let days = vec![("2030-01-01".to_owned(), 0), ("2030-01-02".to_owned(), 4), ("2030-01-03".to_owned(), 2)];
        let svg = bars(&days);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains(r#"data-day="2030-01-02" data-count="4""#), "{svg}");
        assert!(svg.contains("6 codes redeemed in the last 3 days"));
        assert!(svg.contains(r#"height="0.0""#), "an empty day has no bar");
        assert!(bars(&[]).ends_with("</svg>"));
    }
}
