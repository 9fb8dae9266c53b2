-- The catalog: merchants, their stores and store lists, manufacturers, items, item sets.
-- Owners are RESTRICTed (a merchant with stores cannot be deleted); link tables CASCADE.

CREATE TABLE merchants (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    logo TEXT,
    is_active BOOLEAN NOT NULL,
    billing_arrangement TEXT,
    supports_barcode BOOLEAN NOT NULL,
    redemption_identifier_type BIGINT NOT NULL DEFAULT 0,
    primary_contact TEXT,
    secondary_contact TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX merchants_account ON merchants (account_id, id);

CREATE TABLE stores (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    merchant_id BIGINT NOT NULL REFERENCES merchants (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    site_id TEXT,
    number TEXT,
    description TEXT,
    is_active BOOLEAN NOT NULL,
    phone TEXT,
    address TEXT,
    address2 TEXT,
    city TEXT,
    state TEXT,
    zip TEXT,
    country TEXT,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    icon_url TEXT,
    primary_contact TEXT,
    secondary_contact TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX stores_account ON stores (account_id, id);
CREATE INDEX stores_merchant ON stores (merchant_id, id);
CREATE UNIQUE INDEX stores_site_id_unique ON stores (account_id, site_id);
CREATE UNIQUE INDEX stores_number_unique ON stores (merchant_id, number);

CREATE TABLE store_lists (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    merchant_id BIGINT NOT NULL REFERENCES merchants (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX store_lists_merchant ON store_lists (merchant_id, id);

CREATE TABLE store_list_stores (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    store_list_id BIGINT NOT NULL REFERENCES store_lists (id) ON DELETE CASCADE,
    store_id BIGINT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    PRIMARY KEY (store_list_id, store_id)
);
CREATE INDEX store_list_stores_store ON store_list_stores (store_id);

CREATE TABLE manufacturers (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    logo TEXT,
    is_active BOOLEAN NOT NULL,
    billing_arrangement TEXT,
    redemption_identifier_type BIGINT NOT NULL DEFAULT 0,
    primary_contact TEXT,
    secondary_contact TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX manufacturers_account ON manufacturers (account_id, id);

CREATE TABLE manufacturer_merchants (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    manufacturer_id BIGINT NOT NULL REFERENCES manufacturers (id) ON DELETE CASCADE,
    merchant_id BIGINT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    PRIMARY KEY (manufacturer_id, merchant_id)
);
CREATE INDEX manufacturer_merchants_merchant ON manufacturer_merchants (merchant_id);

CREATE TABLE items (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    merchant_id BIGINT REFERENCES merchants (id) ON DELETE RESTRICT,
    manufacturer_id BIGINT REFERENCES manufacturers (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX items_account ON items (account_id, id);
CREATE INDEX items_account_code ON items (account_id, code);
CREATE INDEX items_merchant ON items (merchant_id, id);
CREATE INDEX items_manufacturer ON items (manufacturer_id, id);

CREATE TABLE item_sets (
    id {{id}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    merchant_id BIGINT REFERENCES merchants (id) ON DELETE RESTRICT,
    manufacturer_id BIGINT REFERENCES manufacturers (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    set_type BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX item_sets_account ON item_sets (account_id, id);
CREATE INDEX item_sets_merchant ON item_sets (merchant_id, id);
CREATE INDEX item_sets_manufacturer ON item_sets (manufacturer_id, id);

CREATE TABLE item_set_items (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    item_set_id BIGINT NOT NULL REFERENCES item_sets (id) ON DELETE CASCADE,
    item_id BIGINT NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    PRIMARY KEY (item_set_id, item_id)
);
CREATE INDEX item_set_items_item ON item_set_items (item_id);
