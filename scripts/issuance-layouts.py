#!/usr/bin/env python3
"""What an offer-state issuance costs SQLite to write, by table layout (issue #11's speed).

Writes N issuances to new members straight into a fresh SQLite file, without Kindling's
server, in transactions of 32 (the size of a batch under wrk -c64), with Kindling's settings:
WAL, synchronous=FULL, foreign keys on. The rows' tables and indexes are Kindling's own,
read from a database that `kindling account create` migrates; the parents (accounts, offers,
channels, stores) are reduced to their ids. Each transaction inserts its rows with one
INSERT ... SELECT FROM json_each per table, as `store::issuance::together` does.

Layouts:
  current       today's five rows: member, credential (its code's key in the unique index of
                open codes, migration 25), its offer link, its issue activity, the state
  state         member and a state that holds its own code (unique among open codes);
                no credential, link or activity rows
  state-nocode  the same without the unique index of codes
  members       the member alone (the floor: this script's own cost and one row)

Settings (environment): SEQ=1 draws code keys in increasing order (as Kindling's grow with
credential ids) instead of at random (to price the randomness of the code index), CACHE=KiB sets cache_size, PAGE=bytes sets page_size,
SYNC=OFF|NORMAL|FULL. KINDLING_BIN names the kindling binary (default: the release build in
$CARGO_TARGET_DIR or target/).

Usage: scripts/issuance-layouts.py LAYOUT [N]   (N defaults to 320000)
Python's own sqlite3 module runs the statements, so the SQLite version is the system's, and
the per-issuance figures include this script's work (the `members` row measures it).
"""
import json
import os
import random
import re
import sqlite3
import string
import subprocess
import sys
import tempfile
import time

BATCH = 32
LAYOUT = sys.argv[1] if len(sys.argv) > 1 else ""
N = int(sys.argv[2]) if len(sys.argv) > 2 else 320_000
if LAYOUT not in ("current", "state", "state-nocode", "members"):
    sys.exit(__doc__)
SEQ = bool(os.environ.get("SEQ"))
target = os.environ.get("CARGO_TARGET_DIR", "target")
kindling = os.environ.get("KINDLING_BIN", os.path.join(target, "release", "kindling"))
tmp = tempfile.mkdtemp(prefix="kindling-layouts.")

# Kindling's schema of the five tables, from a database its migrations made.
migrated = os.path.join(tmp, "migrated.db")
subprocess.run([kindling, "account", "create", "--name", "layouts", "--database-url", f"sqlite://{migrated}"],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
schema = [sql for (sql,) in sqlite3.connect(migrated).execute(
    "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")]
tables = ["members"] + (["credentials", "credential_offers", "offer_activities", "offer_states"]
                        if LAYOUT == "current" else [])

path = os.path.join(tmp, f"{LAYOUT}.db")
db = sqlite3.connect(path, isolation_level=None)
db.execute(f"PRAGMA page_size = {int(os.environ.get('PAGE', 4096))}")
db.execute("PRAGMA journal_mode = WAL")
db.execute(f"PRAGMA synchronous = {os.environ.get('SYNC', 'FULL')}")
db.execute("PRAGMA foreign_keys = ON")
if os.environ.get("CACHE"):
    db.execute(f"PRAGMA cache_size = -{int(os.environ['CACHE'])}")
db.executescript("""
CREATE TABLE accounts (id INTEGER PRIMARY KEY); CREATE TABLE offers (id INTEGER PRIMARY KEY);
CREATE TABLE channels (id INTEGER PRIMARY KEY); CREATE TABLE stores (id INTEGER PRIMARY KEY);
INSERT INTO accounts VALUES (1); INSERT INTO offers VALUES (1); INSERT INTO channels VALUES (1);
""")
for sql in schema:
    on = re.match(r"CREATE TABLE (\w+)", sql) or re.match(r"CREATE (?:UNIQUE )?INDEX \w+ ON (\w+)", sql)
    if on and on.group(1) in tables:
        db.execute(sql)
if LAYOUT.startswith("state"):
    db.execute("""CREATE TABLE offer_states (id INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE RESTRICT,
        offer_id BIGINT NOT NULL REFERENCES offers (id) ON DELETE RESTRICT,
        channel_id BIGINT NOT NULL REFERENCES channels (id) ON DELETE RESTRICT,
        identifier TEXT NOT NULL, status TEXT NOT NULL, activates_at BIGINT, expires_at BIGINT,
        external_ref_id TEXT, token TEXT NOT NULL, transferable BOOLEAN NOT NULL DEFAULT TRUE,
        voided_at BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)""")
    db.execute("CREATE INDEX offer_states_member ON offer_states (account_id, member_id, channel_id)")
    db.execute("CREATE UNIQUE INDEX offer_states_token ON offer_states (token)")
    if LAYOUT == "state":
        db.execute("CREATE UNIQUE INDEX offer_states_open ON offer_states (account_id, identifier) WHERE status = 'open'")

ALPHABET = string.ascii_uppercase + string.digits


def drawn(n):
    return "".join(random.choices(ALPHABET, k=n))


NOW = int(time.time())
STATE_INSERT = ("INSERT INTO offer_states (account_id, member_id, offer_id, channel_id, {extra}token, "
                "transferable, created_at, updated_at) SELECT 1, value ->> '$.member_id', 1, 1, {values}"
                "value ->> '$.token', TRUE, ?2, ?2 FROM json_each(?1) WHERE TRUE {conflict} RETURNING id")
started = time.perf_counter()
made = 0
for batch in range(N // BATCH):
    identifiers = json.dumps([f"m-{batch}-{i}" for i in range(BATCH)])
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO members (account_id, identifier, notification_mode, created_at, updated_at) "
               "SELECT 1, value, 'app', ?1, ?1 FROM json_each(?2) WHERE TRUE ON CONFLICT DO NOTHING",
               (NOW, identifiers))
    members = [m for (m,) in db.execute(
        "SELECT (SELECT id FROM members m WHERE m.account_id = 1 AND m.identifier = value) FROM json_each(?1)",
        (identifiers,))]
    states = []
    for member in members:
        made += 1
        code = f"{made:010d}" if SEQ else drawn(10)
        key = made if SEQ else random.getrandbits(40)
        # Tokens begin with a counter, as Kindling's begin with their time.
        states.append({"member_id": member, "code": code, "key": key, "token": f"{made:014x}{drawn(10)}"})
    if LAYOUT == "current":
        credentials = db.execute(
            "INSERT INTO credentials (account_id, member_id, channel_id, identifier, code_key, status, reusable, "
            "annotations, created_at, updated_at) SELECT 1, value ->> '$.member_id', 1, value ->> '$.code', "
            "value ->> '$.key', 'open', FALSE, '{}', ?1, ?1 FROM json_each(?2) WHERE TRUE "
            "ON CONFLICT (account_id, code_key) WHERE status = 'open' "
            "DO NOTHING RETURNING id, member_id", (NOW, json.dumps(states))).fetchall()
        links = json.dumps([{"credential_id": c, "member_id": m} for c, m in credentials])
        db.execute("INSERT INTO credential_offers (account_id, credential_id, offer_id) "
                   "SELECT 1, value ->> '$.credential_id', 1 FROM json_each(?1)", (links,))
        db.execute("INSERT INTO offer_activities (account_id, offer_id, credential_id, member_id, activity_type, "
                   "description, reported_at, processed_at, created_at, updated_at) SELECT 1, 1, "
                   "value ->> '$.credential_id', value ->> '$.member_id', 1, 'issue', ?2, ?2, ?2, ?2 "
                   "FROM json_each(?1)", (links, NOW))
        by_member = {m: c for c, m in credentials}
        for state in states:
            state["credential_id"] = by_member[state["member_id"]]
        db.execute(STATE_INSERT.format(extra="credential_id, ", values="value ->> '$.credential_id', ", conflict=""),
                   (json.dumps(states), NOW)).fetchall()
    elif LAYOUT.startswith("state"):
        conflict = "ON CONFLICT (account_id, identifier) WHERE status = 'open' DO NOTHING" if LAYOUT == "state" else ""
        db.execute(STATE_INSERT.format(extra="identifier, status, ", values="value ->> '$.code', 'open', ",
                                       conflict=conflict), (json.dumps(states), NOW)).fetchall()
    db.execute("COMMIT")
took = time.perf_counter() - started
count = (N // BATCH) * BATCH
rows = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in (["members"] if LAYOUT == "members" else ["members", "offer_states"])}
settings = " ".join(f"{k}={os.environ[k]}" for k in ("SEQ", "CACHE", "PAGE", "SYNC") if os.environ.get(k))
print(f"{LAYOUT:<13} {settings or 'defaults':<10} {count} issuances in {took:.1f} s: {took / count * 1e6:.1f} µs each, "
      f"{count / took:,.0f}/s (SQLite {sqlite3.sqlite_version}; rows {rows})")
db.close()
subprocess.run(["rm", "-rf", tmp], check=True)
