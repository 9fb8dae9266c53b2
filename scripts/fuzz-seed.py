#!/usr/bin/env python3
"""Seeds a running Kindling with one of each resource through its HTTP API and writes the
schemathesis.toml that points every path parameter at them (used by scripts/fuzz.sh).

Usage: fuzz-seed.py BASE_URL IDENTITY KEY OUT.toml

Three complete sets are created: DELETE operations get the second one, so a fuzzed delete
does not leave every later request of the run answering 404, and the POSTs that replace a
whole set of links (an offer's channels, merchants, store lists and member lists, a list's
members or stores, a manufacturer's merchants) get the third, so a fuzzed empty list does
not unlink the first set's campaign and channel. Sections are chosen by `include-name-regex`
alone ("METHOD /path"): Schemathesis ORs an entry's include filters, so `include-path-regex`
with `include-method` would select every operation of that method too. Only the standard
library.
"""
import json
import sys
import urllib.request

base, identity, key, out = sys.argv[1:5]


def call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request) as response:
            text = response.read().decode()
            return response.status, response.headers, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        sys.exit(f"seed: {method} {path} answered {e.code}: {e.read().decode()}")


_, headers, _ = call("GET", "/auth", headers={"X-Auth-Identity": identity, "X-Auth-Key": key})
token = headers["X-Auth-Token"]


def api(method, path, body=None):
    return call(method, "/v1.0" + path, body, {"X-Auth-Token": token})[2]


def create(path, root, fields):
    return api("POST", path, {root: fields})[root]["id"]


def seed(n):
    """One of each resource, linked the way a real account links them; returns path ids."""
    ids = {}
    ids["member_id"] = create("/members", "member", {"identifier": f"fuzz-member-{n}"})
    ids["merchant_id"] = m = create("/merchants", "merchant", {"name": f"Fuzz Burger {n}"})
    ids["store_id"] = create(f"/merchants/{m}/stores", "store", {
        "name": f"Fuzz Burger Downtown {n}", "site_id": f"FUZZ-{n}",
        "location": {"city": "Denver", "lat": 39.7392, "lng": -104.9903},
    })
    ids["store_list_id"] = create(f"/merchants/{m}/store_lists", "store_list", {"name": f"Fuzz stores {n}"})
    api("POST", f"/merchants/store_lists/{ids['store_list_id']}/stores",
        {"store_list": {"store_ids": [ids["store_id"]]}})
    ids["manufacturer_id"] = mf = create("/manufacturers", "manufacturer", {"name": f"Fuzz Foods {n}"})
    api("POST", f"/manufacturers/{mf}/merchants", {"manufacturer": {"merchant_ids": [m]}})
    ids["item_id"] = create("/items", "item", {"name": f"Fries {n}", "code": f"F{n}"})
    ids["item_set_id"] = create("/item_sets", "item_set", {"name": f"Sides {n}", "item_ids": [ids["item_id"]]})
    ids["merchant_item_id"] = create(f"/merchants/{m}/items", "item", {"name": f"Burger {n}", "code": f"B{n}"})
    ids["merchant_item_set_id"] = create(f"/merchants/{m}/item_sets", "item_set",
                                         {"name": f"Burgers {n}", "item_ids": [ids["merchant_item_id"]]})
    ids["manufacturer_item_id"] = create(f"/manufacturers/{mf}/items", "item", {"name": f"Chips {n}", "code": f"C{n}"})
    ids["manufacturer_item_set_id"] = create(f"/manufacturers/{mf}/item_sets", "item_set",
                                             {"name": f"Snacks {n}", "item_ids": [ids["manufacturer_item_id"]]})
    ids["channel_id"] = create("/channels", "channel", {"name": f"App {n}"})
    ids["member_list_id"] = create("/member_lists", "member_list", {"name": f"Fans {n}"})
    api("POST", f"/member_lists/{ids['member_list_id']}/members", {"member_list": {"member_ids": [ids["member_id"]]}})
    ids["offer_id"] = o = create("/offers", "offer", {"name": f"Free fries {n}", "merchant_id": m})
    api("PUT", f"/offers/{o}/actions/approve")
    api("POST", f"/offers/{o}/channels", {"offer": {"channel_ids": [ids["channel_id"]]}})
    api("POST", f"/offers/{o}/merchants", {"offer": {"merchant_ids": [m]}})
    api("POST", f"/offers/{o}/store_lists", {"offer": {"store_list_ids": [ids["store_list_id"]]}})
    api("POST", f"/offers/{o}/member_lists", {"offer": {"member_list_ids": [ids["member_list_id"]]}})
    ids["eligible_item_set_id"] = create(f"/offers/{o}/eligible_item_sets", "eligible_item_set",
                                         {"item_set_id": ids["item_set_id"], "list_type": 0, "req_qty": 1})
    api("POST", f"/offers/{o}/passbook_configuration", {"passbook_configuration": {"organization_name": "Fuzz"}})
    campaign = api("POST", "/campaigns", {"campaign": {
        "offer_id": o, "channel_name": f"Spring Email {n}", "external_id": f"fuzz-campaign-{n}"}})["campaign"]
    ids["campaign_id"] = campaign["id"]
    ids["impression_id"] = create("/impressions", "impression", {
        "cookie_id": f"fuzz-cookie-{n}", "offer_xid": campaign["xid"], "member_id": ids["member_id"]})
    ids["counter_id"] = create("/counters", "counter", {"name": n})
    ids["event_id"] = create("/events", "event", {"name": f"Fuzz event {n}"})
    zid = api("GET", f"/members/{ids['member_id']}/offers/{o}/zidentifiers?x_channel_id={ids['channel_id']}")
    ids["zid"] = int(zid["manufacturer"]["zid"])  # random digits; the spec types the path's zid an integer
    # An offer's POS offer code registers it in the account's list.
    api("PUT", f"/offers/{o}", {"offer": {"pos_offer_code": f"FUZZ{n}"}})
    codes = api("GET", "/pos_offer_codes?per_page=500")["pos_offer_codes"]
    ids["pos_offer_code_id"] = next(c["pos_offer_code"]["id"] for c in codes if c["pos_offer_code"]["code"] == f"FUZZ{n}")
    ids["credential_id"] = create("/credentials", "credential",
                                  {"member_id": ids["member_id"], "offer_id": o, "channel_id": ids["channel_id"]})
    saved = f"/members/{ids['member_id']}/offer_states?channel_id={ids['channel_id']}&offer_id={o}"
    ids["offer_state_id"] = api("POST", saved, {"offer_state": {}})["offer_state"]["offer_state_id"]
    return ids


def toml(value):
    return json.dumps(value)  # a JSON string or number is a TOML one too


def parameters(ids, scope):
    """Path parameter values for one scope: account-wide items and item sets, or a merchant's or
    manufacturer's own."""
    values = dict(ids)
    if scope != "account":
        values["item_id"] = ids[f"{scope}_item_id"]
        values["item_set_id"] = ids[f"{scope}_item_set_id"]
    names = ["campaign_id", "channel_id", "counter_id", "credential_id", "eligible_item_set_id", "event_id",
             "impression_id", "item_id", "item_set_id", "manufacturer_id", "member_id", "member_list_id",
             "merchant_id", "offer_id", "offer_state_id", "pos_offer_code_id", "store_id", "store_list_id", "zid"]
    lines = [f'"path.{name}" = {toml(values[name])}' for name in names]
    # The channel a request acts for: the set's own, so the operations that need one reach
    # their handlers' work rather than stopping at "channel not linked" (its validation is in
    # tests/api).
    lines.append(f'"query.x_channel_id" = {toml(values["channel_id"])}')
    # The seeded store's coordinates, so the nearby search finds it.
    lines += ['"path.lat" = 39.7392', '"path.lng" = -104.9903']
    return "{ " + ", ".join(lines) + " }"


main, victims, links = seed(1), seed(2), seed(3)
scoped = {
    "account": r"/v1\.0/(items|item_sets)/",
    "merchant": r"/v1\.0/merchants/\{merchant_id\}/(items|item_sets)/",
    "manufacturer": r"/v1\.0/manufacturers/\{manufacturer_id\}/(items|item_sets)/",
}
any_scoped = "(" + "|".join(scoped.values()) + ")"
link_sets = (r"/v1\.0/(offers/\{offer_id\}/(channels|merchants|store_lists|member_lists)"
             r"|member_lists/\{member_list_id\}/members|merchants/store_lists/\{store_list_id\}/stores"
             r"|manufacturers/\{manufacturer_id\}/merchants)$")
# Top-level keys first: a key after a [table] header would belong to that table.
sections = [f"""# Written by scripts/fuzz-seed.py. Path ids: the first seeded set; DELETE gets the second,
# POSTs that replace a set of links the third.
parameters = {parameters(main, "account")}

[auth.openapi.X-Auth-Token]
api_key = {toml(token)}
"""]
# Each entry's regex selects operations no other entry does (entries that both match an
# operation would be merged).
entries = [(rf"^(?!DELETE )[A-Z]+ {regex}", main, scope) for scope, regex in scoped.items()]
entries += [(rf"^DELETE {regex}", victims, scope) for scope, regex in scoped.items()]
entries.append((rf"^DELETE (?!{any_scoped})", victims, "account"))
entries.append((rf"^POST {link_sets}", links, "account"))
for regex, ids, scope in entries:
    sections.append(f"""[[operations]]
include-name-regex = {toml(regex)}
parameters = {parameters(ids, scope)}
""")
# `DELETE /auth` logs the token out. The spec has only `GET /auth`, but the coverage phase
# also sends the path's other methods; once its DELETE came, every later request got a 401
# and the run tested authentication alone (7,188 of the 7,640 answers after it, 2026-12-01).
# So /auth is sent every other method but DELETE; logging out is in tests/api/auth.rs.
sections.append("""[[operations]]
include-name = "GET /auth"
phases.coverage.unexpected-methods = ["get", "put", "post", "options", "patch", "trace", "query"]
""")
with open(out, "w") as f:
    f.write("\n".join(sections))
print(json.dumps({"main": main, "victims": victims, "links": links}))
