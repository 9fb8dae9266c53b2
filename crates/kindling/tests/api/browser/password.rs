//! Changing your own password in a real browser: the email in the header leads to the form,
//! the change is made through it, and the new password signs in; the page at desktop and
//! phone widths, saved as `portal-password-*.png`.

use super::harness::Viewport;
use super::portal::{fill, fits, open, sign_in, until};
use crate::helpers::{Backend, TestApp};
use crate::portal::{user, PASSWORD};
use fantoccini::Locator;
use kindling_domain::portal::Role;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_changes_their_password_in_the_browser() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let acct = app.account().await;
    let email = user(&app, &acct, Role::Viewer, &[]).await;
    let mut password = PASSWORD.to_owned();
    for viewport in [Viewport::Desktop, Viewport::Phone] {
        let Some(browser) = open(viewport).await else { return };
        let name = viewport.name();
        sign_in(&browser, &app.base, &email, &password, None).await;
        browser.find("#signed-in-as").await.click().await.unwrap();
        until(&browser, "/admin/password").await;
        fits(&browser, "password").await;
        browser.screenshot(&format!("portal-password-{name}")).await;
        let new = format!("{name} passphrase, long enough");
        fill(&browser, "#current_password", &password).await;
        fill(&browser, "#new_password", &new).await;
        fill(&browser, "#confirm_password", &new).await;
        browser.find("#change-password").await.click().await.unwrap();
        until(&browser, "/admin/password?done=changed").await;
        browser.client.wait().for_element(Locator::Css("#notice")).await.unwrap();
        password = new;
        browser.close().await;
    }
    let mut portal = crate::portal::Portal::new(&app);
    assert!(portal.sign_in(&email, &password).await.location().starts_with("/admin"), "the last new password");
    assert_eq!(crate::portal::Portal::new(&app).sign_in(&email, PASSWORD).await.status, 401);
}
