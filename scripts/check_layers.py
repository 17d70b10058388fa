#!/usr/bin/env python3
"""Keeps the layers pointing down: every #include in the product code (lib/, backends/, proxy/)
must name a file in its own folder or in a folder of a lower layer. The layer order is written
here once; a product folder that is not in it is an error too, so a new folder has to be placed.

    scripts/check_layers.py [ROOT]      check the tree (CTest runs this as `layers`)
    scripts/check_layers.py --self-test check that the checker catches what it should
"""
import os
import re
import sys
import tempfile

# Lowest first. Folders on one line are peers: neither may include the other.
LAYERS = [
    ["lib/common"],
    ["lib/net", "lib/metrics"],  # loops and streams; the metrics registry
    ["lib/config", "lib/imap", "lib/http", "lib/redis"],  # config reading; protocol clients
    ["backends/mailbox"],        # the Mailbox interface and the registry of kinds
    ["backends/imap", "backends/jmap"],  # one folder per kind
    ["backends/builtin"],        # registers every kind
    ["proxy/route"],
    ["proxy/login"],
    ["proxy/sasl"],
    ["proxy/pop3"],
    ["proxy/config"],
    ["proxy/server"],
    ["proxy/main"],
]
PRODUCT_ROOTS = ("lib", "backends", "proxy")
SOURCE = re.compile(r"\.(h|hpp|cc|cpp)$")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def rank_of(folder):
    for rank, peers in enumerate(LAYERS):
        if folder in peers:
            return rank
    return None


def check(root):
    problems = []
    for top in PRODUCT_ROOTS:
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not SOURCE.search(name):
                    continue
                path = os.path.join(dirpath, name)
                folder = os.path.relpath(dirpath, root).replace(os.sep, "/")
                own = rank_of(folder)
                if own is None:
                    problems.append(f"{folder}/{name}: folder {folder} has no layer in "
                                    "scripts/check_layers.py")
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for match in INCLUDE.finditer(text):
                    target = match.group(1)
                    line = text.count("\n", 0, match.start()) + 1
                    where = f"{folder}/{name}:{line}"
                    if not target.startswith(tuple(r + "/" for r in PRODUCT_ROOTS)):
                        problems.append(f'{where}: include "{target}" is not written from the '
                                        "repository's top (lib/..., backends/..., proxy/...)")
                        continue
                    target_folder = target.rsplit("/", 1)[0]
                    if target_folder == folder:
                        continue
                    theirs = rank_of(target_folder)
                    if theirs is None:
                        problems.append(f'{where}: include "{target}" is in a folder with no layer')
                    elif theirs == own:
                        problems.append(f'{where}: include "{target}": {folder} and '
                                        f"{target_folder} are peers and must not include each other")
                    elif theirs > own:
                        problems.append(f'{where}: include "{target}" points up, from {folder} to '
                                        f"{target_folder}")
    return problems


def self_test():
    cases = {
        "lib/net/A.h": ('#include "proxy/pop3/Session.h"\n', "points up"),
        "lib/imap/B.h": ('#include "lib/config/ConfigReader.h"\n', "are peers"),
        "proxy/newfolder/C.h": ("", "has no layer"),
        "backends/imap/D.h": ('#include "ImapFetch.h"\n', "not written from the repository"),
        "proxy/pop3/E.h": ('#include "lib/net/Timer.h"\n#include "proxy/pop3/F.h"\n', None),
    }
    failures = 0
    for path, (text, expected) in cases.items():
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(os.path.join(root, os.path.dirname(path)))
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
            problems = check(root)
            ok = (not problems) if expected is None else (
                len(problems) == 1 and expected in problems[0])
            if not ok:
                failures += 1
                print(f"self-test {path}: expected {expected!r}, got {problems}")
    print(f"{len(cases) - failures} passed, {failures} failed")
    return failures == 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return 0 if self_test() else 1
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    problems = check(os.path.abspath(root))
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} include(s) break the layering")
        return 1
    print("layers: every include points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
