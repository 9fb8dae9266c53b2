//! The Admin Portal (`/admin`): server-rendered pages for the people who run an account's
//! promotions, signed in with an email and a password (docs/PORTAL.md). This is the first
//! part of issue #13: sign-in, the dashboard, merchants, offers (with their Publishing
//! Channels) and the code page.
//!
//! Every page but the sign-in form needs a live session (`session::Signed`); every POST
//! carries the session's CSRF token; what a role may do is `domain::portal::Access`'s rule,
//! checked here on the server whatever the page showed. Codes are redeemed and voided by
//! `store::credentials::write`, offers by `store::offers::write`, the API's own paths.

mod account;
mod campaigns;
mod catalog;
mod channels;
mod chart;
mod codes;
mod csv;
mod login;
mod member_lists;
mod members;
mod merchants;
mod offer;
mod offer_rule;
mod pages;
mod paging;
mod password;
mod reports;
mod session;
mod view;

use axum::extract::FromRef;
use axum::routing::{get, post, MethodRouter};
use kindling_store::Db;

/// How many sign-in attempts one email gets per window (the API's `/auth` numbers).
#[derive(Debug, Clone, Copy)]
pub struct LoginLimit {
    pub max_failures: i64,
    pub window_seconds: i64,
}

/// What the portal's handlers share: the database and the sign-in limit.
#[derive(Clone)]
pub struct PortalState {
    db: Db,
    limit: LoginLimit,
}

impl PortalState {
    pub fn new(db: Db, limit: LoginLimit) -> Self {
        Self { db, limit }
    }
}

/// The portal's routes, for the API's route table (which records every path it mounts).
pub fn routes<S>() -> Vec<(&'static str, MethodRouter<S>)>
where
    PortalState: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    vec![
        ("/admin", get(pages::dashboard)),
        ("/admin/login", get(login::form).post(login::sign_in)),
        ("/admin/logout", post(login::sign_out)),
        ("/admin/password", get(password::form).post(password::change)),
        ("/admin/offers", get(pages::offers).post(offer::create)),
        ("/admin/offers/new", get(offer::new)),
        ("/admin/offers/{id}", get(offer::show).post(offer::update)),
        ("/admin/offers/{id}/edit", get(offer::edit)),
        ("/admin/offer_preview.js", get(offer::preview_script)),
        ("/admin/offers/{id}/status", post(offer::action)),
        ("/admin/offers/{id}/channels", post(offer::set_channels)),
        ("/admin/offers/{id}/channels/new", post(offer::new_channel)),
        ("/admin/offers/{id}/member_lists", post(offer::set_member_lists)),
        ("/admin/offers/{id}/store_lists", post(offer::set_store_lists)),
        ("/admin/offers/{id}/merchants", post(offer::set_merchants)),
        ("/admin/merchants", get(merchants::list).post(merchants::create)),
        ("/admin/merchants/new", get(merchants::new)),
        ("/admin/merchants/{id}", get(merchants::show).post(merchants::update)),
        ("/admin/stores", get(catalog::list::<catalog::stores::Page>).post(catalog::create::<catalog::stores::Page>)),
        ("/admin/stores/new", get(catalog::new::<catalog::stores::Page>)),
        ("/admin/stores/upload", get(catalog::upload::form).post(catalog::upload::upload)),
        (
            "/admin/stores/{id}",
            get(catalog::show::<catalog::stores::Page>).post(catalog::update::<catalog::stores::Page>),
        ),
        (
            "/admin/store_lists",
            get(catalog::list::<catalog::store_lists::Page>).post(catalog::create::<catalog::store_lists::Page>),
        ),
        ("/admin/store_lists/new", get(catalog::new::<catalog::store_lists::Page>)),
        (
            "/admin/store_lists/{id}",
            get(catalog::show::<catalog::store_lists::Page>).post(catalog::update::<catalog::store_lists::Page>),
        ),
        (
            "/admin/manufacturers",
            get(catalog::list::<catalog::manufacturers::Page>).post(catalog::create::<catalog::manufacturers::Page>),
        ),
        ("/admin/manufacturers/new", get(catalog::new::<catalog::manufacturers::Page>)),
        (
            "/admin/manufacturers/{id}",
            get(catalog::show::<catalog::manufacturers::Page>).post(catalog::update::<catalog::manufacturers::Page>),
        ),
        ("/admin/items", get(catalog::list::<catalog::items::Page>).post(catalog::create::<catalog::items::Page>)),
        ("/admin/items/new", get(catalog::new::<catalog::items::Page>)),
        ("/admin/items/{id}", get(catalog::show::<catalog::items::Page>).post(catalog::update::<catalog::items::Page>)),
        (
            "/admin/item_sets",
            get(catalog::list::<catalog::item_sets::Page>).post(catalog::create::<catalog::item_sets::Page>),
        ),
        ("/admin/item_sets/new", get(catalog::new::<catalog::item_sets::Page>)),
        (
            "/admin/item_sets/{id}",
            get(catalog::show::<catalog::item_sets::Page>).post(catalog::update::<catalog::item_sets::Page>),
        ),
        ("/admin/channels", get(channels::list).post(channels::create)),
        ("/admin/channels/new", get(channels::new)),
        ("/admin/channels/{id}", get(channels::show).post(channels::update)),
        ("/admin/channels/{id}/test", post(channels::test_callback)),
        ("/admin/campaigns", get(campaigns::list).post(campaigns::create)),
        ("/admin/campaigns/new", get(campaigns::new)),
        ("/admin/campaigns/{id}", get(campaigns::show).post(campaigns::update)),
        ("/admin/member_lists", get(member_lists::list).post(member_lists::create)),
        ("/admin/member_lists/new", get(member_lists::new)),
        ("/admin/member_lists/{id}", get(member_lists::show).post(member_lists::update)),
        ("/admin/member_lists/{id}/members", post(member_lists::change_members)),
        ("/admin/members", get(members::search)),
        ("/admin/members/{id}", get(members::show)),
        ("/admin/codes", get(codes::page)),
        ("/admin/codes/redeem", post(codes::redeem)),
        ("/admin/codes/void", post(codes::void)),
        ("/admin/reports", get(reports::page)),
        ("/admin/reports/redemptions.csv", get(reports::redemptions_csv)),
        ("/admin/reports/activity.csv", get(reports::activity_csv)),
        ("/admin/account", get(account::page)),
        ("/admin/account/key", post(account::rotate_key)),
        ("/admin/account/callbacks", post(account::callbacks)),
        ("/admin/account/users", post(account::create_user)),
        ("/admin/account/users/{id}/role", post(account::change_role)),
        ("/admin/account/users/{id}/remove", post(account::remove_user)),
    ]
}
