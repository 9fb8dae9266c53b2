#!/usr/bin/env python3
"""Sorts one Schemathesis run's failures into accepted (a rule of the baseline matches) and
new (none does), for scripts/fuzz.sh. Runs in the fuzz venv (needs PyYAML).

Usage: fuzz-triage.py REPORT_DIR BASELINE.yaml STORE

Prints the number of generated test cases, the accepted findings per rule, stale rules, and
every new finding with the request that caused it. Exits 1 when a finding is new, when
Schemathesis reported errors (a crash, a refused connection, an unusable operation), or when
a baseline rule lacks a reason.
"""
import base64
import glob
import json
import re
import sys
from collections import Counter

import yaml

report_dir, baseline_path, store = sys.argv[1:4]

with open(baseline_path) as f:
    rules = yaml.safe_load(f) or []
for rule in rules:
    missing = [k for k in ("id", "check", "message", "reason") if not str(rule.get(k) or "").strip()]
    if missing:
        sys.exit(f"{baseline_path}: rule {rule.get('id', '?')} lacks {', '.join(missing)}")
    rule["_message"] = re.compile(rule["message"])
    rule["_operation"] = re.compile(rule.get("operation", ""))


def rule_for(check, operation, message):
    for rule in rules:
        if rule["check"] == check and rule["_operation"].search(operation) and rule["_message"].search(message):
            return rule
    return None


def text(content):
    if not content:
        return ""
    if "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", "replace")
    return content.get("string", "")


(summary_path,) = glob.glob(f"{report_dir}/json-*.json")
(events_path,) = glob.glob(f"{report_dir}/ndjson-*.ndjson")
with open(summary_path) as f:
    summary = json.load(f)

accepted = Counter()
new = {}  # (operation, check, first line of the message, schema location) -> an example
with open(events_path) as f:
    for line in f:
        event = json.loads(line).get("ScenarioFinished")
        if not event:
            continue
        recorder = event["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                failure = check["failure_info"]["failure"]
                operation, message = failure.get("operation") or recorder["label"], failure["message"]
                rule = rule_for(check["name"], operation, message)
                if rule:
                    accepted[rule["id"]] += 1
                    continue
                schema = re.search(r"Schema at (\S+)", message)  # one finding per schema location
                key = (operation, check["name"], message.split("\n")[0], schema and schema.group(1))
                if key not in new:
                    new[key] = (message, recorder.get("interactions", {}).get(case_id))

generated = summary["test_cases"]["generated"]
print(f"[{store}] {generated} test cases generated "
      f"({summary['operations']['tested']} operations, {summary['running_time']:.0f} s, seed {summary['seed']})")
for rule in rules:
    if accepted[rule["id"]]:
        print(f"[{store}] accepted by baseline rule {rule['id']}: {accepted[rule['id']]} failing checks")
    else:
        print(f"[{store}] baseline rule {rule['id']} matched nothing in this run (stale?)")

for (operation, check, *_), (message, interaction) in sorted(new.items(), key=lambda kv: str(kv[0])):
    print(f"\n[{store}] NEW FINDING: {check} on {operation}\n    " + message.replace("\n", "\n    "))
    if interaction:
        request, response = interaction["request"], interaction.get("response") or {}
        print(f"    request: {request['method']} {request['uri']}\n    body: {text(request.get('body'))[:2000]}")
        print(f"    response: {response.get('status_code')} {text(response.get('content'))[:2000]}")

errors = summary.get("errors") or []
for error in errors:
    print(f"\n[{store}] SCHEMATHESIS ERROR: {json.dumps(error)[:2000]}")

if new or errors:
    print(f"\n[{store}] FAILED: {len(new)} new findings, {len(errors)} errors")
    sys.exit(1)
print(f"[{store}] OK: no findings outside {baseline_path}")
