//! Headless Chromium from Debian's packages (`chromium`, `chromium-driver`), driven over
//! WebDriver by fantoccini: one `chromedriver` per browser on a free loopback port, a fresh
//! profile directory each, and both gone when the `Browser` is dropped.

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Once;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where screenshots go: `<target dir>/tmp/browser/`.
pub const SCREENSHOTS: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/browser");

/// The two widths every page is checked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    /// 390×844 CSS pixels with Chromium's mobile emulation, so the page's viewport meta tag
    /// decides the layout width as on a real phone (a desktop window ignores it).
    Phone,
    /// A 1280×900 window.
    Desktop,
}

impl Viewport {
    pub fn name(self) -> &'static str {
        match self {
            Viewport::Phone => "phone",
            Viewport::Desktop => "desktop",
        }
    }
}

/// Whether the browser tests can run here. Without Chromium they are skipped with a note on
/// stderr, unless `KINDLING_REQUIRE_BROWSER=1` (CI sets it) makes that a failure.
pub fn available() -> bool {
    if std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists() {
        return true;
    }
    let message = "browser tests (chromium/chromedriver not installed: apt-get install chromium chromium-driver)";
    if std::env::var("KINDLING_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("KINDLING_REQUIRE_BROWSER=1 but cannot run {message}");
    }
    once_to_stderr(&SKIP_NOTED, &format!("SKIPPED: {message}"));
    false
}

static SKIP_NOTED: Once = Once::new();
static SHOTS_NOTED: Once = Once::new();

/// Writes a line to the process's stderr once per run, past libtest's capture of `eprintln!`,
/// so that a passing `cargo test` still shows it.
fn once_to_stderr(once: &Once, line: &str) {
    once.call_once(|| {
        let _ = writeln!(std::io::stderr(), "{line}");
    });
}

/// A `chromedriver` process in its own process group: dropping it kills the group, so the
/// Chromium it started goes too, even when a test panics before closing its session.
struct Driver {
    child: Child,
}

impl Driver {
    fn start(log: PathBuf) -> (Self, String) {
        // Free port: bind, read, release; chromedriver binds it right after.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        (Self { child }, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

pub struct Browser {
    pub client: Client,
    pub viewport: Viewport,
    // Field order: the session ends before the driver is killed and the profile removed.
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A new browser with an empty profile (no cookies), or `None` when Chromium is absent.
    pub async fn open(viewport: Viewport) -> Option<Self> {
        if !available() {
            return None;
        }
        let profile = tempfile::tempdir().unwrap();
        let (driver, url) = Driver::start(profile.path().join("chromedriver.log"));
        let client = connect(&url, &capabilities(viewport, profile.path())).await;
        Some(Self { client, viewport, _driver: driver, _profile: profile })
    }

    /// Loads `url` and waits for its `load` event.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css} not found: {e}"))
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Saves a PNG as `<SCREENSHOTS>/<name>.png` and returns its path: on a phone the screen
    /// as a person sees it first, on a desktop the whole page (the window grows to fit it).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        std::fs::create_dir_all(SCREENSHOTS).unwrap();
        let path = PathBuf::from(SCREENSHOTS).join(format!("{name}.png"));
        if self.viewport == Viewport::Desktop {
            let extra = self.js("return document.documentElement.scrollHeight - window.innerHeight").await;
            let (width, height) = self.client.get_window_size().await.unwrap();
            let grow = extra.as_u64().unwrap_or(0);
            self.client.set_window_size(width as u32, (height + grow) as u32).await.unwrap();
        }
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(&path, png).unwrap();
        once_to_stderr(&SHOTS_NOTED, &format!("browser test screenshots: {SCREENSHOTS}/"));
        path
    }

    /// Ends the session (Chromium quits); dropping without it kills the processes instead.
    pub async fn close(self) {
        let Self { client, _driver, _profile, .. } = self;
        let _ = client.close().await;
    }
}

fn capabilities(viewport: Viewport, profile: &std::path::Path) -> serde_json::Map<String, Value> {
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        // Without these Chromium keeps calling home, which on a closed network is just noise.
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        // Screenshots of the page, not of a scroll bar beside it.
        "--hide-scrollbars".into(),
        // The test's own https banner server has a self-signed certificate.
        "--ignore-certificate-errors".into(),
        // Names outside loopback fail at once instead of waiting on DNS, so an offer's banner
        // on a CDN cannot hold up the page's load event.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1".into(),
        format!("--user-data-dir={}", profile.join("chromium").display()),
    ];
    let mut options = json!({"binary": CHROMIUM});
    match viewport {
        Viewport::Desktop => args.push("--window-size=1280,900".into()),
        Viewport::Phone => {
            options["mobileEmulation"] = json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "mobile": true, "touch": true}});
        }
    }
    options["args"] = json!(args);
    let caps = json!({"browserName": "chrome", "goog:chromeOptions": options});
    caps.as_object().unwrap().clone()
}

/// Waits for chromedriver to answer `/status`, then opens a session.
async fn connect(url: &str, caps: &serde_json::Map<String, Value>) -> Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !reqwest::get(format!("{url}/status")).await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "chromedriver did not start on {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector).capabilities(caps.clone()).connect(url).await;
    client.unwrap_or_else(|e| panic!("no Chromium session from {url}: {e}"))
}
