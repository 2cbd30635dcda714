#!/usr/bin/env python3
"""The module-graph rules of README.md ("Layout"), checked on the package as it is (part of `make test`).

- RelayCore (the sink contract) imports no sink, no HTTP server, no Zoom client and no cluster code.
- RTMSIngest's dependency closure (its targets, then every package its products come from, with their own
  dependencies) holds no GRDB, hiredis or AsyncHTTPClient: the state machine and its tests stay free of storage
  and HTTP clients.
- No string-keyed service locator (`SinkServices`) is left anywhere.
- No comment or doc string in Sources/ or Plugins/ cites a document outside the repository.

Run from the package root: python3 Tests/Structure/check.py. Prints every broken rule and exits 1 if any.
"""
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def swift_json(*args):
    out = subprocess.run(["swift", "package", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    failures = []
    manifest = swift_json("dump-package")
    targets = {t["name"]: t for t in manifest["targets"]}
    local = set(targets)

    # 1. RelayCore's imports.
    forbidden_core = local - {"RelayCore"} | {"Hummingbird", "HummingbirdCore", "AsyncHTTPClient", "GRDB", "CHiredis"}
    for path in sorted((ROOT / "Sources/RelayCore").rglob("*.swift")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = re.match(r"\s*(?:@\w+\s+)*import\s+(\w+)", line)
            if m and m.group(1) in forbidden_core:
                failures.append(f"{path.relative_to(ROOT)}:{number}: RelayCore imports {m.group(1)}")

    # 2. RTMSIngest's closure: local targets first, then the packages their products come from.
    packages_used, seen, todo = set(), set(), ["RTMSIngest"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for dep in targets[name]["dependencies"]:
            if "byName" in dep and dep["byName"][0] in local:
                todo.append(dep["byName"][0])
            elif "target" in dep:
                todo.append(dep["target"][0])
            elif "product" in dep:
                packages_used.add(dep["product"][1].lower())
    tree = swift_json("show-dependencies", "--format", "json")
    children = {}

    def index(node):
        children[node["identity"]] = [d["identity"] for d in node["dependencies"]]
        for d in node["dependencies"]:
            index(d)

    index(tree)
    closure, todo = set(), list(packages_used)
    while todo:
        package = todo.pop()
        if package not in closure:
            closure.add(package)
            todo.extend(children.get(package, []))
    for bad in ("CHiredis", "RedisClient", "ZoomAPI"):
        if bad in seen:
            failures.append(f"RTMSIngest depends on the target {bad}")
    for bad in ("grdb.swift", "async-http-client"):
        if bad in closure:
            failures.append(f"RTMSIngest's dependency closure holds the package {bad}")

    # 3 and 4. Text rules.
    rules = [
        (("Sources", "Plugins", "Tests"), re.compile(r"\bSinkServices\b"), "names SinkServices"),
        (("Sources", "Plugins"), re.compile(r"SPEC §|rtms-protocol\.md|\.\./shared"), "cites a document outside the repository"),
    ]
    for folders, pattern, what in rules:
        for folder in folders:
            for path in sorted((ROOT / folder).rglob("*.swift")):
                if not path.is_file() or any(part.startswith(".build") for part in path.parts):
                    continue
                for number, line in enumerate(path.read_text().splitlines(), 1):
                    if pattern.search(line):
                        failures.append(f"{path.relative_to(ROOT)}:{number}: {what}")

    for failure in failures:
        print(f"structure: {failure}")
    print(f"structure: RTMSIngest closure: targets {sorted(seen)}; packages {sorted(closure)}")
    if failures:
        sys.exit(1)
    print("structure: ok")


if __name__ == "__main__":
    main()
