//! Every route in one table, in the spec's path order.

use crate::crud::{collection, item, linked, show_only};
use crate::links::link_set;
use crate::middleware::{guard, method_not_allowed, not_found, panic_response, strip_json_suffix};
use crate::observe::{Observe, Routes};
use crate::routes::catalog::item_sets::{ManufacturerItemSets, MerchantItemSets};
use crate::routes::catalog::items::{ManufacturerItems, MerchantItems};
use crate::routes::catalog::manufacturers::ManufacturerMerchants;
use crate::routes::catalog::store_lists::StoreListStores;
use crate::routes::catalog::stores::AccountStores;
use crate::routes::engine::{activities, check_ins, points, zidentifiers};
use crate::routes::offers::links::{OfferChannels, OfferMemberLists, OfferMerchants, OfferStoreLists};
use crate::routes::offers::member_lists::MemberListMembers;
use crate::routes::offers::{campaigns, links as offer_links, offer as offers, passbook, stores as store_search};
use crate::routes::{
    account, credentials, ctm, health, impressions, issuance, members, offer_states, pos_offer_codes, privacy, reports,
};
use crate::{auth, AppState};
use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::Router;
use kindling_store::catalog::item_sets::{self, ItemSets};
use kindling_store::catalog::items::Items;
use kindling_store::catalog::manufacturers::Manufacturers;
use kindling_store::catalog::merchants::Merchants;
use kindling_store::catalog::store_lists::{self, StoreLists};
use kindling_store::catalog::stores::Stores;
use kindling_store::counters::Counters;
use kindling_store::events::Events;
use kindling_store::members::Members;
use kindling_store::offers::channels::Channels;
use kindling_store::offers::eligible_item_sets::EligibleItemSets;
use kindling_store::offers::member_lists::MemberLists;
use std::convert::Infallible;
use std::sync::Arc;
use tower::util::MapRequestLayer;
use tower::{Layer, ServiceExt};
use tower_http::catch_panic::CatchPanicLayer;

/// The route table as it is mounted, with every path recorded: axum's `Router` cannot list
/// its routes, and the isolation test must see each one (`route_paths`).
#[derive(Default)]
struct Table {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Table {
    fn route(mut self, path: &'static str, method_router: MethodRouter<AppState>) -> Self {
        self.paths.push(path);
        self.router = self.router.route(path, method_router);
        self
    }
}

/// Every path template the router serves, in mounting order.
pub fn route_paths() -> Vec<&'static str> {
    table().paths
}

fn table() -> Table {
    // The Admin Portal's pages (kindling-web), signed in with a session cookie.
    let portal = kindling_web::portal::routes().into_iter().fold(Table::default(), |t, (path, r)| t.route(path, r));
    portal
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::render))
        .route("/auth", get(auth::authenticate).post(auth::authenticate).delete(auth::revoke))
        // The landing page of an offer on a channel (kindling-web); literal paths win over it.
        .route("/{xid}", get(kindling_web::landing))
        .route("/v1.0/account", get(account::get_account).put(account::update_account))
        .route("/v1.0/account/callbacks/enable", put(account::enable_callbacks))
        .route("/v1.0/account/callbacks/disable", put(account::disable_callbacks))
        .route("/v1.0/members", collection::<Members>())
        .route("/v1.0/members/search", get(members::get_members_by_identifier))
        .route("/v1.0/members/{member_id}", item::<Members>())
        // The offer engine: zidentifiers, check-ins, activity feeds, loyalty points
        .route("/v1.0/members/{member_id}/offers/{offer_id}/zidentifiers", get(zidentifiers::create_z_identifier))
        .route("/v1.0/members/zidentifiers/{zid}", get(zidentifiers::get_z_identifier))
        .route("/v1.0/members/{member_id}/stores/{store_id}/check-in", post(check_ins::check_in_member_to_store))
        .route("/v1.0/members/{member_id}/stores/{store_id}", get(check_ins::get_member_store))
        .route("/v1.0/activities/offers", get(activities::get_member_offer_activities))
        .route("/v1.0/members/{member_id}/activities/redemptions", get(activities::get_member_redemptions))
        .route(
            "/v1.0/members/{member_id}/stores/{store_id}/activities/redemptions",
            get(activities::get_member_store_redemptions),
        )
        .route("/v1.0/points/card_status", get(points::get_points_card_status))
        .route("/v1.0/points/transfer", post(points::transfer_loyalty_points))
        .route("/v1.0/members/offer_states", get(offer_states::get_members_with_offer_states))
        .route("/v1.0/members/offer_states/issue", post(issuance::issue_offer))
        // The point of sale (CTM, core-ops): under /v1.0 (the spec's server) and at the root.
        .route("/v1.0/ctm/members/{site_id}/{credential}", get(ctm::show_member).put(ctm::update_member))
        .route("/ctm/members/{site_id}/{credential}", get(ctm::show_member).put(ctm::update_member))
        .route("/v1.0/ctm/members/{site_id}", put(ctm::update_site))
        .route("/ctm/members/{site_id}", put(ctm::update_site))
        .route("/v1.0/v2/ctm/members/{site_id}/{credential}", put(ctm::show_member).post(ctm::update_member))
        .route("/v2/ctm/members/{site_id}/{credential}", put(ctm::show_member).post(ctm::update_member))
        .route("/v1.0/v2/ctm/members/{site_id}", post(ctm::update_site))
        .route("/v2/ctm/members/{site_id}", post(ctm::update_site))
        .route("/v1.0/ctm/allocate/{site_id}/{credential}", post(ctm::allocate))
        .route("/ctm/allocate/{site_id}/{credential}", post(ctm::allocate))
        .route("/v1.0/ctm/deallocate/{site_id}", post(ctm::deallocate))
        .route("/ctm/deallocate/{site_id}", post(ctm::deallocate))
        .route("/v1.0/ctm/qitems/{site_id}/{credential}", post(ctm::qitems))
        .route("/ctm/qitems/{site_id}/{credential}", post(ctm::qitems))
        .route("/v1.0/v2/ctm/customposmessages", get(ctm::custom_messages))
        .route("/v2/ctm/customposmessages", get(ctm::custom_messages))
        .route("/v1.0/v2/ctm/stores", get(ctm::stores))
        .route("/v2/ctm/stores", get(ctm::stores))
        .route("/v1.0/transactions/{transaction_id}", get(ctm::get_transaction))
        .route("/transactions/{transaction_id}", get(ctm::get_transaction))
        .route("/v1.0/transactions/{transaction_id}/void", post(ctm::void_transaction))
        .route(
            "/v1.0/members/{member_id}/offer_states",
            get(offer_states::get_member_offer_states).post(offer_states::create_member_offer_state),
        )
        .route(
            "/v1.0/members/{member_id}/offer_states/{offer_state_id}",
            get(offer_states::get_member_offer_state).put(offer_states::update_member_offer_state),
        )
        .route(
            "/v1.0/members/{member_id}/offer_states/{offer_state_id}/void",
            post(offer_states::void_member_offer_state),
        )
        .route(
            "/v1.0/members/offer_states/{offer_state_id}/void",
            post(offer_states::void_offer_state_by_member_identifier),
        )
        // Merchants, their stores and store lists
        .route("/v1.0/merchants", collection::<Merchants>())
        .route("/v1.0/merchants/{merchant_id}", item::<Merchants>())
        .route("/v1.0/merchants/stores/{store_id}", show_only::<AccountStores>())
        .route("/v1.0/merchants/stores/index", get(store_search::stores_with_active_offers))
        .route("/v1.0/merchants/stores/nearby/index", get(store_search::stores_with_active_offers))
        .route("/v1.0/merchants/stores/nearby/{lat}/{lng}/index", get(store_search::stores_near_point))
        .route("/v1.0/merchants/{merchant_id}/stores/{store_id}/offers", get(store_search::store_offers))
        .route("/v1.0/merchants/{merchant_id}/offers", get(offers::get_merchant_offers))
        .route("/v1.0/merchants/{merchant_id}/stores", collection::<Stores>())
        .route("/v1.0/merchants/{merchant_id}/stores/{store_id}", item::<Stores>())
        .route("/v1.0/merchants/{merchant_id}/store_lists", collection::<StoreLists>())
        .route("/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}", item::<StoreLists>())
        .route(
            "/v1.0/merchants/{merchant_id}/store_lists/{store_list_id}/stores",
            linked::<StoreLists, Stores, _, _>(&store_lists::STORES),
        )
        .route("/v1.0/merchants/store_lists/{store_list_id}/stores", link_set::<StoreListStores>())
        // Merchant-scoped items and item sets
        .route("/v1.0/merchants/{merchant_id}/items", collection::<MerchantItems>())
        .route("/v1.0/merchants/{merchant_id}/items/{item_id}", item::<MerchantItems>())
        .route("/v1.0/merchants/{merchant_id}/item_sets", collection::<MerchantItemSets>())
        .route("/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}", item::<MerchantItemSets>())
        .route(
            "/v1.0/merchants/{merchant_id}/item_sets/{item_set_id}/items",
            linked::<MerchantItemSets, Items, _, _>(&item_sets::ITEMS),
        )
        // Manufacturers, their eligible merchants, items and item sets
        .route("/v1.0/manufacturers", collection::<Manufacturers>())
        .route("/v1.0/manufacturers/{manufacturer_id}", item::<Manufacturers>())
        .route("/v1.0/manufacturers/{manufacturer_id}/merchants", link_set::<ManufacturerMerchants>())
        .route("/v1.0/manufacturers/{manufacturer_id}/items", collection::<ManufacturerItems>())
        .route("/v1.0/manufacturers/{manufacturer_id}/items/{item_id}", item::<ManufacturerItems>())
        .route("/v1.0/manufacturers/{manufacturer_id}/item_sets", collection::<ManufacturerItemSets>())
        .route("/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}", item::<ManufacturerItemSets>())
        .route(
            "/v1.0/manufacturers/{manufacturer_id}/item_sets/{item_set_id}/items",
            linked::<ManufacturerItemSets, Items, _, _>(&item_sets::ITEMS),
        )
        // Offers and what they link to
        .route("/v1.0/offers", get(offers::get_offers).post(offers::create_offer))
        .route("/v1.0/offers/{offer_id}", get(offers::get_offer).put(offers::update_offer).delete(offers::delete_offer))
        .route("/v1.0/offers/{offer_id}/actions/{action}", put(offers::offer_action))
        .route("/v1.0/offers/{offer_id}/channels", link_set::<OfferChannels>())
        .route(
            "/v1.0/offers/{offer_id}/channels/{channel_id}",
            get(offer_links::get_offer_channel).put(offer_links::update_offer_channel),
        )
        .route("/v1.0/offers/{offer_id}/member_lists", link_set::<OfferMemberLists>())
        .route("/v1.0/offers/{offer_id}/merchants", link_set::<OfferMerchants>())
        .route("/v1.0/offers/{offer_id}/store_lists", link_set::<OfferStoreLists>())
        .route("/v1.0/offers/{offer_id}/stores", get(store_search::offer_stores))
        .route("/v1.0/offers/{offer_id}/eligible_item_sets", collection::<EligibleItemSets>())
        .route("/v1.0/offers/{offer_id}/eligible_item_sets/{eligible_item_set_id}", item::<EligibleItemSets>())
        .route(
            "/v1.0/offers/{offer_id}/passbook_configuration",
            get(passbook::get_passbook)
                .post(passbook::create_passbook)
                .put(passbook::update_passbook)
                .delete(passbook::delete_passbook),
        )
        // Credentials
        .route("/v1.0/credentials", get(credentials::get_credentials).post(credentials::create_credential))
        .route("/v1.0/credentials/eligible", get(credentials::credential_eligibility))
        .route(
            "/v1.0/credentials/{credential_id}",
            get(credentials::get_credential).put(credentials::update_credential).delete(credentials::delete_credential),
        )
        .route("/v1.0/credentials/{credential_id}/redeem", put(credentials::redeem_credential))
        .route("/v1.0/credentials/{credential_id}/void", put(credentials::void_credential))
        // Impressions
        .route("/v1.0/impressions", get(impressions::get_impressions).post(impressions::create_impression))
        .route("/v1.0/impressions/{impression_id}", delete(impressions::delete_impression))
        // Reports
        .route("/v1.0/reports/offer_activity", get(reports::get_offer_activity))
        .route("/v1.0/reports/redemptions", get(reports::get_offer_redemptions))
        .route("/v1.0/reports/account_level", get(reports::get_all_merchant_data))
        .route("/v1.0/merchants/{merchant_id}/reports/full", get(reports::get_merchant_data))
        .route("/v1.0/merchants/{merchant_id}/reports/impressions", get(reports::get_merchant_impressions))
        // Channels, campaigns, member lists
        .route("/v1.0/channels", collection::<Channels>())
        .route("/v1.0/channels/{channel_id}", item::<Channels>())
        .route("/v1.0/campaigns", get(campaigns::get_campaigns).post(campaigns::create_campaign))
        .route("/v1.0/campaigns/search", get(campaigns::search_campaigns))
        .route(
            "/v1.0/campaigns/{campaign_id}",
            get(campaigns::get_campaign).put(campaigns::update_campaign).delete(campaigns::delete_campaign),
        )
        .route("/v1.0/member_lists", collection::<MemberLists>())
        .route("/v1.0/member_lists/{member_list_id}", item::<MemberLists>())
        .route("/v1.0/member_lists/{member_list_id}/members", link_set::<MemberListMembers>())
        // Account-wide items and item sets
        .route("/v1.0/items", collection::<Items>())
        .route("/v1.0/items/{item_id}", item::<Items>())
        .route("/v1.0/item_sets", collection::<ItemSets>())
        .route("/v1.0/item_sets/{item_set_id}", item::<ItemSets>())
        .route("/v1.0/item_sets/{item_set_id}/items", linked::<ItemSets, Items, _, _>(&item_sets::ITEMS))
        // Counters, events and POS offer codes (registered by offers and campaigns)
        .route("/v1.0/counters", collection::<Counters>())
        .route("/v1.0/counters/{counter_id}", item::<Counters>())
        .route("/v1.0/events", collection::<Events>())
        .route("/v1.0/events/{event_id}", item::<Events>())
        .route("/v1.0/pos_offer_codes", get(pos_offer_codes::get_pos_offer_codes))
        .route("/v1.0/pos_offer_codes/{pos_offer_code_id}", get(pos_offer_codes::get_pos_offer_code))
        .route("/v1.0/privacy/member/delete_request", post(privacy::create_member_deletion_request))
        .route("/v1.0/privacy/member/export", get(privacy::export_member_data))
}

/// The service to serve: the route table behind its middleware, each layer wrapping the
/// whole router once (`Router::layer` would wrap every route, and each wrapping is cloned on
/// every request). Outermost first:
/// 1. the `.json` suffix is removed, so routing sees `/v1.0/members/1009`;
/// 2. `Observe`: request id, span and log line, `X-Runtime`, metrics;
/// 3. `CatchPanic`: a panic becomes a JSON 500 (logged and counted as one);
/// 4. `guard`: body limit and read timeout, then `Idempotency-Key`;
/// 5. the router.
pub fn app(
    state: AppState,
) -> impl tower::Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static {
    wrap(table(), state)
}

/// Only the landing pages (and the health checks), for `kindling serve --landing-listen`: the
/// public page host without the API behind it. Same middleware as `app`.
pub fn landing_app(
    state: AppState,
) -> impl tower::Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static {
    let table = Table::default()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/{xid}", get(kindling_web::landing));
    wrap(table, state)
}

fn wrap(
    table: Table,
    state: AppState,
) -> impl tower::Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static {
    let Table { router, paths } = table;
    let routes = Arc::new(Routes::new(&paths));
    let metrics = state.metrics.clone();
    let router = router.fallback(not_found).method_not_allowed_fallback(method_not_allowed).with_state(state.clone());
    let guarded = axum::middleware::from_fn_with_state(state, guard).layer(router);
    let caught = CatchPanicLayer::custom(panic_response).layer(guarded).map_response(|r| r.map(Body::new));
    let observed = Observe::new(caught, metrics, routes);
    MapRequestLayer::new(strip_json_suffix as fn(Request) -> Request).layer(observed)
}
