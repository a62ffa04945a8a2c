"""README's first screen stays short, and every reference in the docs resolves in the repository.

Checks README.md's length (a newcomer reads it in two minutes; the reference lives in docs/), that
every relative Markdown link in README.md, ARCHITECTURE.md and docs/**/*.md names a file or
folder of the repository (and, for a link into a Markdown file, a heading of it, by GitHub's
anchor rule), and that every repository path quoted in backticks (`src/...`, `tests/...`,
`bench/...`, ...) exists. Leaves out: external links (http, mailto), which need the network.
Needs no fixture: it reads only the source tree (CNNSCOPE_SOURCE_DIR).
"""
import glob
import os
import re
import unittest

SOURCE_DIR = os.environ.get("CNNSCOPE_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
README_MAX_LINES = 250
PATH_ROOTS = ("src/", "tests/", "bench/", "scripts/", "fuzz/", "docs/", "cmake/", "assets/")

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^\s*```")


def markdown_files():
    files = [os.path.join(SOURCE_DIR, name) for name in ("README.md", "ARCHITECTURE.md")]
    files += sorted(glob.glob(os.path.join(SOURCE_DIR, "docs", "**", "*.md"), recursive=True))
    return files


def prose_lines(path):
    """The lines of a Markdown file outside fenced code blocks, with their numbers."""
    inside = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                inside = not inside
                continue
            if not inside:
                yield number, line


def docs_prose():
    """(path, name relative to the repository, line number, line) of every docs file's prose."""
    for path in markdown_files():
        rel = os.path.relpath(path, SOURCE_DIR)
        for number, line in prose_lines(path):
            yield path, rel, number, line


def github_anchor(heading):
    """GitHub's id for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    seen = {}
    result = set()
    for _, line in prose_lines(path):
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        anchor = github_anchor(m.group(2))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        result.add(anchor if count == 0 else f"{anchor}-{count}")
    return result


class ReadmeTest(unittest.TestCase):
    def test_readme_first_screen_is_short(self):
        with open(os.path.join(SOURCE_DIR, "README.md"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        self.assertLessEqual(len(lines), README_MAX_LINES,
                             "README.md is the first screen: move reference text into docs/")

    def test_every_relative_link_resolves(self):
        broken = []
        for path, rel, number, line in docs_prose():
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
                    continue
                file_part, _, anchor = target.partition("#")
                resolved = (os.path.normpath(os.path.join(os.path.dirname(path), file_part))
                            if file_part else path)
                if not resolved.startswith(SOURCE_DIR + os.sep) or not os.path.exists(resolved):
                    broken.append(f"{rel}:{number}: {target} (no such file)")
                elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
                    broken.append(f"{rel}:{number}: {target} (no such heading)")
        self.assertEqual(broken, [])

    def test_every_quoted_repository_path_exists(self):
        missing = []
        for _, rel, number, line in docs_prose():
            for span in CODE_SPAN.findall(line):
                if not span.startswith(PATH_ROOTS) or re.search(r"[*<>{}\s]|\.\.\.|…", span):
                    continue  # not a path, or a pattern (`tests/<stage>/test_*.py`)
                if not os.path.exists(os.path.join(SOURCE_DIR, span.rstrip("/"))):
                    missing.append(f"{rel}:{number}: {span}")
        self.assertEqual(missing, [])


if __name__ == "__main__":
    unittest.main()
