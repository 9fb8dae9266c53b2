-- Offers and how they are distributed: channels, offer×channel (eligible channels, also
-- shown as campaigns), member lists, eligibility links, item sets and passbook settings.
-- Lists and merchants an offer is restricted to are RESTRICTed: deleting one would silently
-- widen the offer. Everything owned by an offer CASCADEs with it.

CREATE TABLE channels (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    allow_sms_keyword BOOLEAN NOT NULL,
    allow_hmac BOOLEAN NOT NULL,
    conversion_callback_url TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX channels_account ON channels (account_id, id);

CREATE TABLE member_lists (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX member_lists_account ON member_lists (account_id, id);

CREATE TABLE member_list_members (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    member_list_id BIGINT NOT NULL REFERENCES member_lists (id) ON DELETE CASCADE,
    member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    PRIMARY KEY (member_list_id, member_id)
);
CREATE INDEX member_list_members_member ON member_list_members (member_id);

CREATE TABLE offers (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    merchant_id BIGINT REFERENCES merchants (id) ON DELETE RESTRICT,
    manufacturer_id BIGINT REFERENCES manufacturers (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    description TEXT,
    description_template_id BIGINT,
    offer_type BIGINT NOT NULL,
    category TEXT,
    offer_code TEXT,
    pos_offer_code TEXT,
    points_earning_value BIGINT,
    points_required_value BIGINT,
    reward_item_description TEXT,
    reward_item_value BIGINT,
    terms_and_conditions TEXT,
    terms_and_conditions_template_id BIGINT,
    quest_only BOOLEAN NOT NULL,
    merchant_name TEXT,
    external_reward TEXT,
    is_reward BOOLEAN NOT NULL,
    locked BOOLEAN,
    activates_at BIGINT,
    expires_at BIGINT,
    stop_offering_at BIGINT,
    max_amount BIGINT,
    min_spend_amount BIGINT,
    trigger_amount BIGINT,
    max_redemptions BIGINT,
    max_redemptions_per_member BIGINT,
    max_redemptions_per_member_per_day BIGINT,
    initial_value_mode TEXT,
    availability TEXT,
    offer_value_text TEXT,
    offer_value_text_es TEXT,
    redeem_until_depleted BOOLEAN,
    initial_remaining_value BIGINT,
    required_item_set_id BIGINT,
    redemption_item_set_id BIGINT,
    required_item_count BIGINT,
    redemption_item_count BIGINT,
    criteria TEXT NOT NULL,
    formatting TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX offers_account ON offers (account_id, id);
CREATE INDEX offers_merchant ON offers (merchant_id);

CREATE TABLE offer_merchants (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    merchant_id BIGINT NOT NULL REFERENCES merchants (id) ON DELETE RESTRICT,
    PRIMARY KEY (offer_id, merchant_id)
);
CREATE INDEX offer_merchants_merchant ON offer_merchants (merchant_id);

CREATE TABLE offer_store_lists (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    store_list_id BIGINT NOT NULL REFERENCES store_lists (id) ON DELETE RESTRICT,
    PRIMARY KEY (offer_id, store_list_id)
);
CREATE INDEX offer_store_lists_list ON offer_store_lists (store_list_id);

CREATE TABLE offer_member_lists (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    member_list_id BIGINT NOT NULL REFERENCES member_lists (id) ON DELETE RESTRICT,
    PRIMARY KEY (offer_id, member_list_id)
);
CREATE INDEX offer_member_lists_list ON offer_member_lists (member_list_id);

-- One offer on one channel: the guide's "eligible channel" with its landing-page xid, and
-- the same row seen as a campaign.
CREATE TABLE eligible_channels (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE RESTRICT,
    xid TEXT NOT NULL,
    security TEXT,
    security_key TEXT,
    sms_keyword TEXT,
    allow_return_later BOOLEAN NOT NULL DEFAULT TRUE,
    max_redemptions BIGINT,
    external_id TEXT,
    code_ref TEXT,
    code_count TEXT,
    pos_offer_code TEXT,
    funding_source TEXT,
    start_display_at BIGINT,
    stop_display_at TEXT,
    eligible_store_numbers TEXT,
    eligible_storelist_numbers TEXT,
    description_template_id TEXT,
    landing_page_image_template_id TEXT,
    terms_and_conditions_template_id TEXT,
    generate_reusable_codes BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX eligible_channels_xid ON eligible_channels (xid);
CREATE UNIQUE INDEX eligible_channels_pair ON eligible_channels (offer_id, channel_id);
CREATE UNIQUE INDEX eligible_channels_external_id ON eligible_channels (account_id, external_id);
CREATE INDEX eligible_channels_channel ON eligible_channels (channel_id);

CREATE TABLE eligible_item_sets (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    item_set_id BIGINT NOT NULL REFERENCES item_sets (id) ON DELETE RESTRICT,
    list_type BIGINT NOT NULL,
    req_qty BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX eligible_item_sets_offer ON eligible_item_sets (offer_id, id);
CREATE INDEX eligible_item_sets_item_set ON eligible_item_sets (item_set_id);

-- Secrets (p12) are stored but never shown.
CREATE TABLE passbook_configurations (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    p12_certificate TEXT,
    p12_password TEXT,
    team_identifier TEXT,
    pass_type_id_name TEXT,
    logo TEXT,
    icon TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX passbook_configurations_offer ON passbook_configurations (offer_id);
