//! A code as a picture, drawn server-side as inline SVG: Code 128 for the printable page
//! (what store scanners read from paper), QR for the mobile page (what they read from a
//! phone screen).

use barcoders::generators::svg::SVG;
use barcoders::sym::code128::Code128;
use qrcode::render::svg;
use qrcode::QrCode;

/// `text` for HTML text or a double-quoted attribute in markup written by hand (the SVGs).
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Code 128 in character set B (printable ASCII); `None` for a code it cannot carry.
pub fn code128(code: &str) -> Option<String> {
    if code.is_empty() || !code.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    let barcode = Code128::new(format!("Ɓ{code}")).ok()?;
    let svg = SVG::new(80).xdim(2).xmlns("http://www.w3.org/2000/svg".into()).generate(barcode.encode()).ok()?;
    // A role and label so that a screen reader announces the code, not a pile of rectangles.
    Some(svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"Barcode {}\" ", escape(code)), 1))
}

/// A QR code of the code; `None` if it does not fit one.
pub fn qr(code: &str) -> Option<String> {
    let qr = QrCode::new(code.as_bytes()).ok()?;
    let image = qr.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    // The renderer writes a standalone document; inline HTML takes only the <svg> element.
    let start = image.find("<svg")?;
    let svg = &image[start..];
    Some(svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"QR code {}\" ", escape(code)), 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barcode_of_a_code() {
        let svg = code128("ABC123").expect("printable ASCII fits Code 128");
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"Barcode ABC123\""));
        assert!(svg.matches("<rect").count() > 10);
        assert!(code128("").is_none());
        assert!(code128("ÄÖ").is_none());
        // Same code, same picture; another code, another picture.
        assert_eq!(code128("ABC123"), code128("ABC123"));
        assert_ne!(code128("ABC123"), code128("ABC124"));
    }

    #[test]
    fn qr_of_a_code() {
        let svg = qr("ABC123").expect("a short code fits a QR");
        assert!(svg.starts_with("<svg role=\"img\" aria-label=\"QR code ABC123\""));
        assert!(!svg.contains("<?xml"));
        assert_ne!(qr("ABC123"), qr("ABC124"));
    }

    #[test]
    fn labels_are_escaped() {
        let code = "A\"><b>&";
        for svg in [code128(code).unwrap(), qr(code).unwrap()] {
            let label = svg.split('>').next().unwrap();
            assert!(label.contains("A&quot;&gt;&lt;b&gt;&amp;"), "{label}");
        }
    }
}
