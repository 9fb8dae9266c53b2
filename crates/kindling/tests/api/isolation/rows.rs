//! The database-wide check: no row links records of two accounts, whatever route wrote it.

use crate::helpers::TestApp;

/// Columns that point at another account-owned row: (table, column, target table).
const REFERENCES: &[(&str, &str, &str)] = &[
    ("stores", "merchant_id", "merchants"),
    ("store_lists", "merchant_id", "merchants"),
    ("store_list_stores", "store_list_id", "store_lists"),
    ("store_list_stores", "store_id", "stores"),
    ("manufacturer_merchants", "manufacturer_id", "manufacturers"),
    ("manufacturer_merchants", "merchant_id", "merchants"),
    ("items", "merchant_id", "merchants"),
    ("items", "manufacturer_id", "manufacturers"),
    ("item_sets", "merchant_id", "merchants"),
    ("item_sets", "manufacturer_id", "manufacturers"),
    ("item_set_items", "item_set_id", "item_sets"),
    ("item_set_items", "item_id", "items"),
    ("member_list_members", "member_list_id", "member_lists"),
    ("member_list_members", "member_id", "members"),
    ("offers", "merchant_id", "merchants"),
    ("offers", "manufacturer_id", "manufacturers"),
    ("offers", "required_item_set_id", "item_sets"),
    ("offers", "redemption_item_set_id", "item_sets"),
    ("offer_merchants", "offer_id", "offers"),
    ("offer_merchants", "merchant_id", "merchants"),
    ("offer_store_lists", "offer_id", "offers"),
    ("offer_store_lists", "store_list_id", "store_lists"),
    ("offer_member_lists", "offer_id", "offers"),
    ("offer_member_lists", "member_list_id", "member_lists"),
    ("eligible_channels", "offer_id", "offers"),
    ("eligible_channels", "channel_id", "channels"),
    ("eligible_item_sets", "offer_id", "offers"),
    ("eligible_item_sets", "item_set_id", "item_sets"),
    ("passbook_configurations", "offer_id", "offers"),
    ("credentials", "member_id", "members"),
    ("credentials", "channel_id", "channels"),
    ("credentials", "store_id", "stores"),
    ("credential_offers", "credential_id", "credentials"),
    ("credential_offers", "offer_id", "offers"),
    ("redemptions", "credential_id", "credentials"),
    ("redemptions", "offer_id", "offers"),
    ("redemptions", "channel_id", "channels"),
    ("redemptions", "member_id", "members"),
    ("redemptions", "store_id", "stores"),
    ("offer_activities", "offer_id", "offers"),
    ("offer_activities", "credential_id", "credentials"),
    ("offer_activities", "member_id", "members"),
    ("impressions", "member_id", "members"),
    ("offer_states", "member_id", "members"),
    ("offer_states", "offer_id", "offers"),
    ("offer_states", "channel_id", "channels"),
    ("offer_states", "credential_id", "credentials"),
    ("impressions", "channel_id", "channels"),
    ("zidentifiers", "member_id", "members"),
    ("zidentifiers", "offer_id", "offers"),
    ("zidentifiers", "channel_id", "channels"),
    ("check_ins", "member_id", "members"),
    ("check_ins", "store_id", "stores"),
    ("points_balances", "member_id", "members"),
    ("points_balances", "channel_id", "channels"),
    ("points_transfers", "member_id", "members"),
    ("points_transfers", "channel_id", "channels"),
    ("member_deletion_requests", "member_id", "members"),
];

/// No row anywhere in the database links records of two accounts.
pub async fn no_cross_account_rows(app: &TestApp) {
    for (table, column, target) in REFERENCES {
        let sql = format!(
            "SELECT COUNT(*) FROM {table} r JOIN {target} t ON t.id = r.{column} WHERE t.account_id <> r.account_id"
        );
        let count: Option<i64> = app.db.fetch_optional(&sql, &[]).await.unwrap();
        assert_eq!(count, Some(0), "{table}.{column} points into another account's {target}");
    }
}
