//! Callbacks ignore proxies named in the environment: a proxy would connect to the target
//! itself, so the address the worker vetted would not be the one connected to. This is its
//! own test binary because it sets process-wide environment variables.

use kindling_domain::Timestamp;
use kindling_store::credentials::outbox::Job;
use kindling_workers::callbacks::{attempt, client, Config};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Answers every connection with `status` and counts the connections.
fn serve(status: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(stream, "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (address, count)
}

#[test]
fn proxies_from_the_environment_are_ignored() {
    let (target, delivered) = serve("200 OK");
    let (proxy, proxied) = serve("502 Bad Gateway");
    // Set before any other thread exists (the runtime is built below).
    for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"] {
        std::env::set_var(name, format!("http://{proxy}"));
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let config = Config { allow_private: true, ..Config::default() };
    let job = Job {
        id: 1,
        account_id: kindling_domain::AccountId(1),
        method: "GET".into(),
        url: format!("http://{target}/cb"),
        body: None,
        attempts: 1,
        give_up_at: Timestamp::from_unix(0),
    };
    let result = runtime.block_on(async { attempt(&client(&config).unwrap(), &job, true).await });
    assert_eq!(result, Ok(200));
    assert_eq!(delivered.load(Ordering::SeqCst), 1);
    assert_eq!(proxied.load(Ordering::SeqCst), 0, "the proxy was not used");
}
