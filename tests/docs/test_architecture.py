"""ARCHITECTURE.md's "who includes whom" table says what the code does: for every folder of src/,
the stages its `#include "stage/..."` lines name are exactly the stages of its row, and every
folder has a row. Leaves out: includes inside one stage, system and third-party headers.
Needs no fixture: it reads only the source tree (CNNSCOPE_SOURCE_DIR).
"""
import glob
import os
import re
import unittest

SOURCE_DIR = os.environ.get("CNNSCOPE_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
ROW = re.compile(r"^\| `([a-z_]+)` \| (.*) \|\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.MULTILINE)


def documented():
    """stage -> the stages its row of the table names (a row's first cell is one stage)."""
    with open(os.path.join(SOURCE_DIR, "ARCHITECTURE.md"), encoding="utf-8") as f:
        text = f.read()
    table = text.split("Who includes whom", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(1)] = set(re.findall(r"`([a-z_]+)`", m.group(2)))
    return rows


def actual():
    """stage -> the other stages its files include."""
    src = os.path.join(SOURCE_DIR, "src")
    stages = {}
    for folder in sorted(os.listdir(src)):
        if not os.path.isdir(os.path.join(src, folder)):
            continue
        names = set()
        for path in glob.glob(os.path.join(src, folder, "**", "*.[ch]*"), recursive=True):
            with open(path, encoding="utf-8", errors="replace") as f:
                names.update(INCLUDE.findall(f.read()))
        stages[folder] = names - {folder}
    return stages


class ArchitectureTest(unittest.TestCase):
    def test_include_table_matches_the_code(self):
        rows = documented()
        code = actual()
        self.assertEqual(sorted(rows), sorted(code), "one row per folder of src/")
        for stage, includes in code.items():
            self.assertEqual(rows[stage] & set(code), includes,
                             f"ARCHITECTURE.md's row of `{stage}` against its #include lines")


if __name__ == "__main__":
    unittest.main()
