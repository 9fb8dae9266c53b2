//! `/admin/password` over real HTTP on both stores (docs/PORTAL.md, "Your password"): a
//! signed-in user of any role changes their own password; the new one signs in and the old
//! one no longer does; their other sessions end and the one that changed it stays; a wrong
//! current password, a short new one or a mistyped confirmation changes nothing (422, the
//! field's error); wrong current passwords count towards the sign-in limit (429); the CSRF
//! token is checked first.

use crate::backend_tests;
use crate::helpers::TestApp;
use crate::portal::{user, Portal, PASSWORD};
use kindling_domain::portal::Role;

backend_tests!(a_user_changes_their_password, bad_password_changes_change_nothing);

const NEW: &str = "a much longer passphrase";

fn change<'a>(csrf: &'a str, current: &'a str, new: &'a str, confirm: &'a str) -> [(&'static str, &'a str); 4] {
    [("csrf", csrf), ("current_password", current), ("new_password", new), ("confirm_password", confirm)]
}

async fn a_user_changes_their_password(app: TestApp) {
    let acct = app.account().await;
    // Every role may change their own password, a viewer and a store operator included.
    let shop = crate::portal::store(&app, &acct, "Main Street").await;
    for (role, stores) in [(Role::Viewer, vec![]), (Role::StoreOperator, vec![shop]), (Role::Owner, vec![])] {
        let email = user(&app, &acct, role, &stores).await;
        let mut here = Portal::signed_in(&app, &email).await;
        let mut elsewhere = Portal::signed_in(&app, &email).await;
        let form = here.get("/admin/password").await;
        assert_eq!(form.status, 200, "{}", form.text);
        for label in
            [r#"<label for="current_password">"#, r#"<label for="new_password">"#, r#"<label for="confirm_password">"#]
        {
            assert!(form.text.contains(label), "{label}");
        }
        let csrf = here.csrf.clone();
        let done = here.post("/admin/password", &change(&csrf, PASSWORD, NEW, NEW)).await;
        assert_eq!(done.location(), "/admin/password?done=changed", "{role:?}");
        let shown = here.get("/admin/password?done=changed").await;
        assert_eq!(shown.status, 200, "the changing session stays signed in");
        assert!(shown.text.contains(r#"id="notice""#), "{}", shown.text);
        assert_eq!(elsewhere.get("/admin/codes").await.location(), "/admin/login", "the other session ended");
        assert_eq!(Portal::new(&app).sign_in(&email, PASSWORD).await.status, 401, "the old password");
        assert!(Portal::new(&app).sign_in(&email, NEW).await.location().starts_with("/admin"), "the new one");
    }
}

async fn bad_password_changes_change_nothing(app: TestApp) {
    let acct = app.account().await;
    let email = user(&app, &acct, Role::Editor, &[]).await;
    let other = user(&app, &acct, Role::Editor, &[]).await;
    let mut portal = Portal::signed_in(&app, &email).await;
    let mut elsewhere = Portal::signed_in(&app, &email).await;
    let csrf = portal.csrf.clone();
    // No token, or a wrong one: 403 before anything is looked at.
    let mut bare = change("", PASSWORD, NEW, NEW).to_vec();
    bare.remove(0);
    assert_eq!(portal.post("/admin/password", &bare).await.status, 403);
    assert_eq!(portal.post("/admin/password", &change(&elsewhere.csrf.clone(), PASSWORD, NEW, NEW)).await.status, 403);
    // The new password's rules and its confirmation, each next to its field.
    let short = portal.post("/admin/password", &change(&csrf, PASSWORD, "short", "short")).await;
    assert_eq!(short.status, 422);
    assert!(short.text.contains(r#"id="new_password-error""#) && short.text.contains("at least 12 characters"));
    let mistyped = portal.post("/admin/password", &change(&csrf, PASSWORD, NEW, "a much longer passphrasE")).await;
    assert_eq!(mistyped.status, 422);
    assert!(mistyped.text.contains(r#"id="confirm_password-error""#), "{}", mistyped.text);
    // Nothing typed is shown back.
    assert!(!mistyped.text.contains(NEW) && !mistyped.text.contains(PASSWORD));
    // A wrong current password: refused, and counted with the sign-in attempts.
    let wrong = portal.post("/admin/password", &change(&csrf, "not the password", NEW, NEW)).await;
    assert_eq!(wrong.status, 422);
    assert!(
        wrong.text.contains(r#"id="current_password-error""#) && wrong.text.contains("is not your current password")
    );
    for _ in 0..4 {
        assert_eq!(portal.post("/admin/password", &change(&csrf, "not the password", NEW, NEW)).await.status, 422);
    }
    let limited = portal.post("/admin/password", &change(&csrf, PASSWORD, NEW, NEW)).await;
    assert_eq!(limited.status, 429, "even the right password waits: {}", limited.text);
    assert!(limited.headers.contains_key("retry-after"));
    // The same count as this browser's sign-ins (it signed in before, so it counts on its
    // own, not the email's: a sign-in from another browser is not held up).
    assert_eq!(portal.sign_in(&email, PASSWORD).await.status, 429, "the same count as sign-in");
    assert!(Portal::new(&app).sign_in(&email, PASSWORD).await.location().starts_with("/admin"));
    // Nothing changed: the other session is alive, and once the window is over the old
    // password is still the one.
    assert_eq!(elsewhere.get("/admin/codes").await.status, 200);
    app.db.execute("DELETE FROM portal_login_attempts", &[]).await.unwrap();
    assert!(Portal::new(&app).sign_in(&email, PASSWORD).await.location().starts_with("/admin"));
    // Another user's password is untouched by all of this.
    assert!(Portal::new(&app).sign_in(&other, PASSWORD).await.location().starts_with("/admin"));
}
