#!/usr/bin/env python3
"""Keeps files small enough to read in one sitting: no source, script or build file of the
project may pass MAX_LINES lines. A file that grows past it is split where its parts are
separate (a fixture from its tests, a peer's configuration from its process handling), not cut
at a line count.

    scripts/check_file_lengths.py [ROOT]       check the tree (CTest runs this as `file_lengths`)
    scripts/check_file_lengths.py --self-test  check that the checker catches what it should
"""
import os
import sys
import tempfile

MAX_LINES = 400
CHECKED_SUFFIXES = (".cpp", ".h", ".py", ".sh", ".cmake", ".yaml", ".conf")
CHECKED_NAMES = ("CMakeLists.txt", "Dockerfile")
# Build trees (any folder named build*), measured results, caches: not the project's code.
SKIPPED_DIRS = {".git", ".cache", "__pycache__", "node_modules"}
SKIPPED_PATHS = {os.path.join("bench", "results")}


def checked(name):
    return name.endswith(CHECKED_SUFFIXES) or name in CHECKED_NAMES


def too_long(root):
    """[(relative path, lines)] of every checked file over MAX_LINES, sorted."""
    out = []
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        dirs[:] = [d for d in dirs
                   if d not in SKIPPED_DIRS and not d.startswith("build")
                   and os.path.normpath(os.path.join(rel_folder, d)) not in SKIPPED_PATHS]
        for name in files:
            if not checked(name):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                lines = sum(1 for _ in f)
            if lines > MAX_LINES:
                out.append((os.path.relpath(path, root), lines))
    return sorted(out)


def self_test():
    with tempfile.TemporaryDirectory() as root:
        def write(rel, lines):
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("x\n" * lines)
        write("lib/ok.cpp", MAX_LINES)
        write("lib/long.h", MAX_LINES + 1)
        write("tests/long_test.py", MAX_LINES + 5)
        write("CMakeLists.txt", MAX_LINES + 1)
        write("docs/long.md", MAX_LINES * 2)           # prose is not checked
        write("build-asan/gen.cpp", MAX_LINES * 2)     # a build tree
        write("bench/results/x/run.py", MAX_LINES * 2)  # measured results
        found = too_long(root)
        expected = [("CMakeLists.txt", MAX_LINES + 1), ("lib/long.h", MAX_LINES + 1),
                    ("tests/long_test.py", MAX_LINES + 5)]
        if found != expected:
            print(f"self-test: expected {expected}, got {found}")
            return 1
    print("self-test: ok")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    found = too_long(os.path.abspath(root))
    for path, lines in found:
        print(f"{path}: {lines} lines (at most {MAX_LINES}): split it where its parts are separate")
    if not found:
        print(f"every checked file has at most {MAX_LINES} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
