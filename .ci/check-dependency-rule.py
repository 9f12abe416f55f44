#!/usr/bin/env python3
"""Fails when the workspace breaks the dependency rule of docs/ARCHITECTURE.md.

- prepaid-domain has no dependencies at all (dev-dependencies allowed);
- prepaid-application depends on prepaid-domain, async-trait, thiserror (and mockall, optional,
  behind the `mock` feature) and nothing else;
- no adapter depends on another adapter, in any dependency kind;
- only prepaid-bootstrap and prepaid-tools depend on adapters (dev-dependencies included);
- no production crate depends on prepaid-tools; prepaid-bootstrap may, as a dev-dependency,
  for the end-to-end tests of its binary.
"""
import json
import subprocess
import sys

ADAPTERS = {"prepaid-http", "prepaid-persistence", "prepaid-crypto"}
APPLICATION_ALLOWED = {"prepaid-domain", "async-trait", "thiserror", "mockall"}

metadata = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
problems = []
packages = {package["name"]: package for package in metadata["packages"]}
for required in ["prepaid-domain", "prepaid-application", "prepaid-bootstrap", "prepaid-tools", *sorted(ADAPTERS)]:
    if required not in packages:
        problems.append(f"package {required} is missing from the workspace")

for name, package in packages.items():
    deps = package["dependencies"]
    normal = [d for d in deps if d["kind"] in (None, "build")]
    if name == "prepaid-domain" and normal:
        problems.append(f"prepaid-domain must have no dependencies, has {[d['name'] for d in normal]}")
    if name == "prepaid-application":
        extra = [d["name"] for d in normal if d["name"] not in APPLICATION_ALLOWED]
        if extra:
            problems.append(f"prepaid-application may depend only on {sorted(APPLICATION_ALLOWED)}, also has {extra}")
        mock = [d for d in normal if d["name"] == "mockall"]
        if mock and not mock[0]["optional"]:
            problems.append("prepaid-application must make mockall optional (feature `mock`)")
    if name not in ("prepaid-bootstrap", "prepaid-tools"):
        adapters = sorted({d["name"] for d in deps if d["name"] in ADAPTERS and d["name"] != name})
        if adapters:
            problems.append(f"{name} depends on adapter(s) {adapters}: only prepaid-bootstrap may")
    if name not in ("prepaid-bootstrap", "prepaid-tools") and any(d["name"] == "prepaid-bootstrap" for d in deps):
        problems.append(f"{name} depends on prepaid-bootstrap")
    if name != "prepaid-tools":
        on_tools = [d for d in deps if d["name"] == "prepaid-tools"]
        if any(d["kind"] != "dev" for d in on_tools):
            problems.append(f"{name} depends on prepaid-tools: production crates never do")
        if on_tools and name != "prepaid-bootstrap":
            problems.append(f"{name} uses prepaid-tools: only bootstrap's end-to-end tests may")

if problems:
    print("dependency rule broken:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    sys.exit(1)
print("dependency rule holds")
