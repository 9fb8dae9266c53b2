//! An offer banner the browser can really load: landing pages take only https images and
//! the network is closed, so the test serves a PNG itself over TLS on loopback with a
//! self-signed certificate (Chromium runs with `--ignore-certificate-errors`).

use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{crypto::ring, ServerConfig};
use tokio_rustls::TlsAcceptor;

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 300;

/// Starts the server on the test's runtime and returns the banner's `https://127.0.0.1:…` URL.
pub async fn serve() -> String {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/fries-banner.png", listener.local_addr().unwrap());
    let png: Arc<[u8]> = png_bytes().into();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, png) = (acceptor.clone(), png.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                // One request per connection: read its head, answer with the PNG, close.
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    png.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.write_all(&png).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    url
}

/// A warm diagonal-striped gradient, the kind of picture a fries promotion would carry.
fn png_bytes() -> Vec<u8> {
    let mut pixels = Vec::with_capacity((WIDTH * HEIGHT * 3) as usize);
    for y in 0..HEIGHT {
        for x in 0..WIDTH {
            let t = x as f32 / WIDTH as f32;
            let stripe = ((x + y) / 40) % 2 == 0;
            let (r, g, b) = (255.0, 200.0 - 110.0 * t, 40.0 * (1.0 - t));
            let shade = if stripe { 1.0 } else { 0.88 };
            pixels.extend([r * shade, g * shade, b * shade].map(|c| c as u8));
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().unwrap().write_image_data(&pixels).unwrap();
    out
}
