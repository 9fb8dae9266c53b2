#!/usr/bin/env python3
"""Checks SQLite's query plans as the tests ran them (a KINDLING_SQLITE_PLAN_LOG file, one
JSON line per distinct statement: {"sql": ..., "plan": [steps]}).

A statement fails the check when it names a member, credential, offer, transaction or
other narrow key of a large table, yet SQLite reads that table by the account alone (an
index searched on `account_id` only, or the whole table): at a million rows that is a
scan of every row the account has, for a handful of them. The statistics that steer the
planner are migration 29's (crates/store/migrations/0029_sqlite_statistics.sql).

Usage: scripts/plans.py LOG. Prints each failing statement with its plan; exit status 1 if
any failed, 0 otherwise (also when the log is empty or missing: no SQLite test ran).
"""
import json
import os
import re
import sys

# Tables that grow with members and their activity.
LARGE = {
    "members", "credentials", "credential_offers", "offer_activities", "offer_states", "redemptions",
    "impressions", "zidentifiers", "pos_transactions", "pos_transaction_items", "pos_qitems", "check_ins",
    "points_transfers", "callback_attempts", "member_list_members",
}
# Keys that name a few rows of those tables, compared by equality or IN somewhere in the statement
# (an impression's cookie and offer xid are the filters of `GET /v1.0/impressions`).
NARROW = re.compile(r'\b(member_id|credential_id|offer_id|transaction_id|code_key|token|zid|member_list_id|outbox_id|cookie_id|offer_xid)"?\s*(=|IN\b)',
                    re.IGNORECASE)
# Statements that read by account on purpose, each with why.
ALLOWED = [
    # Isolation checks of the test suite: every row of a table against its parent's account.
    (re.compile(r"WHERE t\.account_id <> r\.account_id"), "test-only isolation check"),
    # A test's own tally of an offer's activities (crates/kindling/tests/api/credentials.rs).
    (re.compile(r"^SELECT activity_type, COUNT\(\*\) AS count FROM offer_activities WHERE offer_id = \$1 GROUP BY"),
     "test-only count"),
]
# An index searched on the account alone. (A search on the account and a time window, as the
# reports make, reads that window: bounded by what the caller asked for, and not flagged.)
ACCOUNT_ONLY = re.compile(r"^(SEARCH|SCAN) (\w+) USING (?:COVERING )?INDEX (\w+) \(account_id=\?\)")
FULL_SCAN = re.compile(r"^SCAN (\w+)$")
ALIASES = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?(?:\s+(?:AS\s+)?"?(\w+)"?)?', re.IGNORECASE)


def table_of(name, sql):
    """The table a plan step's name (a table or an alias) stands for."""
    for table, alias in ALIASES.findall(sql):
        if name in (table, alias):
            return table
    return name


def index_table(index):
    """The large table an index belongs to, by Kindling's naming (<table>_<what>)."""
    matches = [t for t in LARGE if index.startswith(t + "_") or index == f"sqlite_autoindex_{t}_1"]
    return max(matches, key=len) if matches else None


def failures(entries):
    for entry in entries:
        sql, plan = entry["sql"], entry["plan"]
        if any(pattern.search(sql) for pattern, _ in ALLOWED) or not NARROW.search(sql):
            continue
        for step in plan:
            step = step.strip()
            account_only = ACCOUNT_ONLY.match(step)
            if account_only and index_table(account_only.group(3)):
                yield sql, plan, step
                break
            scan = FULL_SCAN.match(step)
            if scan and table_of(scan.group(1), sql) in LARGE:
                yield sql, plan, step
                break


def self_test():
    """The check fails a whole-account read and a full scan, and passes a narrow search."""
    sql = 'SELECT COUNT(*) FROM "credentials" WHERE "account_id" = ? AND "member_id" = ?'
    bad = {"sql": sql, "plan": ["SEARCH credentials USING INDEX credentials_created (account_id=?)"]}
    good = {"sql": sql, "plan": ["SEARCH credentials USING INDEX credentials_member (member_id=?)"]}
    scan = {"sql": 'SELECT id FROM redemptions AS r WHERE r.credential_id = $1', "plan": ["SCAN r"]}
    window = {"sql": "SELECT id FROM redemptions r WHERE r.account_id = $1 AND r.offer_id = $2",
              "plan": ["SEARCH r USING INDEX redemptions_redeemed (account_id=? AND redeemed_at>?)"]}
    assert [len(list(failures([e]))) for e in (bad, good, scan, window)] == [1, 0, 1, 0], "plans.py self-test"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    self_test()
    path = sys.argv[1]
    if not os.path.exists(path):
        print(f"plans: {path} not found, no SQLite statement was recorded")
        return 0
    with open(path, encoding="utf-8") as f:
        entries = [json.loads(line) for line in f if line.strip()]
    unique = {e["sql"]: e for e in entries}.values()
    failed = list(failures(unique))
    for sql, plan, step in failed:
        print(f"reads a whole account: {step}\n  {sql}\n  plan: {' | '.join(plan)}\n")
    print(f"plans: {len(unique)} statements checked, {len(failed)} read a whole account's rows for a few")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
