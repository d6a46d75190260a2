"""The interface speaks Simplified Chinese: every string is translated and the compiled catalogue is current."""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries(po: Path = PO) -> list[dict[str, str]]:
    entries = []
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$', line)
            if match:
                key = match.group(1)
                fields[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid"):
            entries.append(fields)
    return entries


def test_every_string_has_a_chinese_translation() -> None:
    untranslated = [e["msgid"] for e in _entries() if not (e.get("msgstr") or e.get("msgstr[0]"))]
    assert untranslated == [], "run `make messages` and translate these"
    assert "#, fuzzy\nmsgid \"" not in PO.read_text(encoding="utf-8").split("\n\n", 1)[1]


def test_compiled_catalogue_matches_the_source() -> None:
    with translation.override("zh-hans"):
        stale = [
            e["msgid"]
            for e in _entries()
            if "msgctxt" not in e and "msgid_plural" not in e and translation.gettext(e["msgid"]) != e["msgstr"]
        ]
    assert stale == [], "the .mo is older than the .po: run `make messages`"


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path: Path) -> None:
    """A string marked for translation but never extracted (``make messages`` not run) shows in English."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(".venv", "var", ".git", "node_modules", "test-output", "*.mo", "__pycache__")
    shutil.copytree(ROOT, copy, ignore=ignore)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete",
         "-i", "bench/*", "-i", "tests/*", "-i", "static/*", "-v", "0"],
        cwd=copy, check=True, capture_output=True,
    )
    extracted = {e["msgid"] for e in _entries(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")}
    translated = {e["msgid"] for e in _entries() if e.get("msgstr") or e.get("msgstr[0]")}
    assert sorted(extracted - translated) == [], "run `make messages` and translate these"
