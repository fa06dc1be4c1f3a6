#!/usr/bin/env python3
"""Fails when a crate depends on something ARCHITECTURE.md forbids.

Reads `cargo metadata` (normal dependencies only, transitively within the
workspace plus direct external ones) and checks the forbidden edges of the
crate map. Run from the repository root.
"""
import json
import subprocess
import sys

# crate -> names it must never depend on (directly or through another crate)
FORBIDDEN = {
    "ferric-common": {"tokio", "ferric-protocol", "ferric-remoting", "ferric-store"},
    "ferric-protocol": {"tokio", "ferric-remoting", "ferric-store"},
    "ferric-filter": {"tokio", "ferric-remoting", "ferric-store"},
    "ferric-store": {"ferric-protocol", "ferric-remoting", "tokio"},
    "ferric-client": {"ferric-store", "ferric-broker", "ferric-namesrv"},
    "ferric-broker": {"ferric-client"},
    "ferric-namesrv": {"ferric-client", "ferric-store", "ferric-broker"},
    "ferric-testkit": {"ferric-store", "ferric-broker", "ferric-namesrv"},
}


def main() -> int:
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    meta = json.loads(out)
    members = set(meta["workspace_members"])
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    names = {p["id"]: p["name"] for p in meta["packages"]}

    def normal_deps(pkg_id):
        for dep in nodes[pkg_id]["deps"]:
            kinds = {k.get("kind") for k in dep["dep_kinds"]}
            if None in kinds:  # a normal (non-dev, non-build) dependency
                yield dep["pkg"]

    failures = []
    for pkg_id in members:
        name = names[pkg_id]
        banned = FORBIDDEN.get(name)
        if not banned:
            continue
        seen, stack, parent = set(), [pkg_id], {pkg_id: None}
        while stack:
            cur = stack.pop()
            for dep in normal_deps(cur):
                if dep in seen:
                    continue
                seen.add(dep)
                parent[dep] = cur
                if names[dep] in banned:
                    chain, p = [], dep
                    while p is not None:
                        chain.append(names[p])
                        p = parent[p]
                    failures.append(f"{name} must not depend on {names[dep]}: " + " -> ".join(reversed(chain)))
                stack.append(dep)
    if failures:
        print("forbidden dependency edges found:")
        for f in sorted(set(failures)):
            print("  " + f)
        return 1
    print(f"dependency rules hold for {len(members)} workspace crates")
    return 0


if __name__ == "__main__":
    sys.exit(main())
