"""The dashboard's languages: gettext catalogues (locale/<lang>/LC_MESSAGES/messages.po), read with the standard
library, the language chosen per script run (or per feed request, per training thread) in a context variable.

A translator edits the .po files with any gettext tool; `pybabel extract` finds every string marked below
(README, "Where do I change…", a word on a page). The .po is compiled in memory when first used: nothing to
build, nothing written to disk.

    tr("Test accuracy")                            a message in the current language
    tr("epoch {n} of {total}", n=3, total=10)      with named values filled in after translation
    ntr("{n} run", "{n} runs", n)                  singular or plural, by n
    N_("T-shirt/top")                              marks a string for extraction; tr() translates it where shown
    said(N_("limit of {s} s"), s=3) -> kept        a message kept for later (an event's, the run store's)...
    shown(kept)                                    ...put into words in the language of whoever reads it
"""

from __future__ import annotations

import contextvars
import functools
import gettext
import io
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}  # code -> the name a speaker of it reads in the switch
DEFAULT = "en"  # the language the source is written in
# pybabel's keywords for the functions below (babel.cfg and tests/test_i18n.py read this one definition)
KEYWORDS = {"tr": None, "ntr": (1, 2), "N_": None}

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT)


def language() -> str:
    return _language.get()


def use(lang: str | None) -> str:
    """Make `lang` this context's language (an unknown one falls back to English); returns the one in use."""
    lang = lang if lang in LANGUAGES else DEFAULT
    _language.set(lang)
    return lang


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """`lang` for a block only (a feed request, a test), then the previous language again."""
    token = _language.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def match(locale: str | None) -> str:
    """The dashboard language for a browser's locale ('zh-CN', 'zh', 'zh-Hans-CN' -> zh_CN; others -> en)."""
    if locale and locale.lower().replace("_", "-").split("-")[0] == "zh":
        return "zh_CN"
    return DEFAULT


def _locale_dir() -> Path:
    """locale/ beside core/ (a checkout), else on sys.path: a cluster worker gets core/ and locale/ as two Ray
    py_modules, each unpacked into a folder of its own."""
    if LOCALE_DIR.is_dir():
        return LOCALE_DIR
    for entry in sys.path:
        folder = Path(entry or ".") / LOCALE_DIR.name
        if any(folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
            return folder
    return LOCALE_DIR


@functools.cache
def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language (English: none, the source strings are the English)."""
    path = _locale_dir() / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == DEFAULT or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as f:
        po = read_po(f, locale=lang)
    mo = io.BytesIO()
    write_mo(mo, po)  # fuzzy entries are left out, as msgfmt leaves them out
    mo.seek(0)
    return gettext.GNUTranslations(mo)


def tr(message: str, **values) -> str:
    """`message` in the current language, with {name} placeholders filled from `values` after translation."""
    text = catalogue(_language.get()).gettext(message)
    return text.format(**values) if values else text


def ntr(singular: str, plural: str, n: int, **values) -> str:
    """The singular or plural form for n (Chinese has one form), `n` and `values` filled in."""
    return catalogue(_language.get()).ngettext(singular, plural, n).format(n=n, **values)


# a label's parenthesis, in English or in Chinese: 'Softmax regression (from scratch)', 'softmax回归（从零开始实现）'
_PARENTHESIS = re.compile(r" \(|（")


def bare(label: str) -> str:
    """A label without its parenthesis, in either language, for headings and short lines: 'Softmax regression'."""
    return _PARENTHESIS.split(label)[0]


def N_(message: str) -> str:
    """Mark a string for translation where it is defined (a class name, a recipe's description); shown via tr()."""
    return message


_SAID = '{"said": '  # how a kept message with values begins (a plain id is kept as it is)


def said(message: str, **values) -> str:
    """A message to keep (an event's, a run's in the store, sent across a cluster): its English id and its values,
    as one string. It is put into words where it is shown (shown()), in the language of whoever reads it: a
    teacher reading a student's stopped run reads it in the teacher's language."""
    if not values:
        return message
    plain = {k: v if isinstance(v, (int, float, str, bool)) or v is None else str(v) for k, v in values.items()}
    return json.dumps({"said": message, "values": plain}, ensure_ascii=False)


def shown(kept: str | None) -> str | None:
    """A kept message (said()) in the current language. A text kept as written (an older run's, a dataset's
    error) is translated if it is a known id, else shown as it is."""
    if not kept or not kept.startswith(_SAID):
        return tr(kept) if kept else kept
    try:
        record = json.loads(kept)
        message, values = record["said"], record["values"]
        return tr(message, **values)
    except (ValueError, KeyError, TypeError, IndexError):
        return kept
