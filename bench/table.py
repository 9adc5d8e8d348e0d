#!/usr/bin/env python3
"""Turns a hyperfine --export-json file into a Markdown table of medians,
with every command's ratio to a baseline command.

usage: table.py RESULTS.json BASELINE_NAME"""
import json, sys

results = json.load(open(sys.argv[1]))["results"]
baseline = next(r for r in results if r["command"] == sys.argv[2])
print("| command | median s | min s | max s | runs | median vs %s |" % sys.argv[2])
print("|---|---:|---:|---:|---:|---:|")
for r in results:
    ratio = r["median"] / baseline["median"]
    print("| %s | %.3f | %.3f | %.3f | %d | %.2fx |" % (r["command"], r["median"], r["min"], r["max"], len(r["times"]), ratio))
