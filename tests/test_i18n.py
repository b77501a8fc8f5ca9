"""Every message in the source has a Chinese translation, and every page shown in Chinese has no English left
outside code, equations and names (MNIST, PyTorch...)."""

from __future__ import annotations

import json
import re
import string

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from google.protobuf.json_format import MessageToDict

from core import i18n
from tests.conftest import PAGES, ROOT, app, start_job

PO = i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def source_messages() -> dict[str, tuple[str, int]]:
    """msgid -> (file, line) for every string marked in the source, as `pybabel extract -F babel.cfg` finds them."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for path, line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=i18n.KEYWORDS
    ):
        found.setdefault(message[0] if isinstance(message, tuple) else message, (path, line))
    return found


def catalogue():
    with PO.open("rb") as f:
        return read_po(f, locale="zh_CN")


def _forms(s) -> tuple[str, ...]:
    return s if isinstance(s, tuple) else (s,)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_in_the_source_has_a_chinese_translation():
    po = catalogue()
    missing = [
        f"{path}:{line}: {msgid!r}"
        for msgid, (path, line) in source_messages().items()
        if not (entry := po.get(msgid)) or entry.fuzzy or not all(_forms(entry.string))
    ]
    assert not missing, "untranslated (run README's Translate commands, then fill msgstr):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    for entry in catalogue():
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strs = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        want = placeholders(ids[-1])
        for s in strs:
            assert placeholders(s) == want, f"{entry.id!r} -> {s!r}"


def test_switching_language_changes_tr_and_back():
    with i18n.using("zh_CN"):
        assert i18n.tr("Language") != "Language"
    assert i18n.tr("Language") == "Language"
    assert i18n.match("zh-CN") == i18n.match("zh") == "zh_CN" and i18n.match("en-GB") == i18n.match(None) == "en"


# ---------------------------------------------------------------------------------------------- pages in Chinese

# Words that stay as they are in a Chinese course: dataset, model and library names, units, abbreviations d2l-zh
# itself writes in Latin letters. Anything else in Latin letters on a Chinese page is an untranslated string.
NAMES = set(
    """mnist fashion fashion-mnist softmax mlp cnn lenet sgd adam relu pytorch torch torchvision cpu gpu cuda ray
    png jpg jpeg csv json sqlite postgresql nginx url english id idx lr max min log exp argmax dropout ms""".split()
)
# Fields of Streamlit's protos that hold text a person reads (the rest are ids, enums, formats, code)
TEXT = {"body", "label", "help", "options", "caption", "placeholder", "text", "title", "tooltip", "delta"}
PLOTLY_TEXT = {"text", "name", "hovertemplate", "texttemplate", "ticktext", "label"}
# code, equations, plotly's %{...}, HTML tags, Markdown colours, links, run ids (job3-1a2b3c4d, Markdown-escaped too)
CODE = re.compile(
    r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|%\{[^}]*\}|<[^>]+>|:[a-z-]+\[|https?://\S+|\bjob\d+\\?-[0-9a-f]+", re.S
)
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{2,}")


def plotly_texts(node, out: list[str], key: str = "") -> None:
    if isinstance(node, dict):
        for k, v in node.items():
            plotly_texts(v, out, k)
    elif isinstance(node, list):
        for v in node:
            plotly_texts(v, out, key)
    elif isinstance(node, str) and key in PLOTLY_TEXT:
        out.append(node)


def proto_texts(node, out: list[str], key: str = "") -> None:
    if key == "spec":  # a plotly chart's JSON
        plotly_texts(json.loads(node), out)
    elif key == "json":  # the live view's data: its heading, progress line and plotly figures
        data = json.loads(node)
        out += [data.get("head") or "", (data.get("progress") or {}).get("text", "")]
        for fig in data.get("figures", []):
            plotly_texts(json.loads(fig), out)
    elif isinstance(node, dict):
        for k, v in node.items():
            proto_texts(v, out, k)
    elif isinstance(node, list):
        for v in node:
            proto_texts(v, out, key)
    elif isinstance(node, str) and key in TEXT:
        out.append(node)


def page_texts(at) -> list[str]:
    out: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            proto_texts(MessageToDict(proto), out)
        if type(node).__name__ == "Dataframe":  # its headers are in the Arrow data
            out.extend(str(c) for c in node.value.columns)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at.main)
    walk(at.sidebar)
    return out


def english_words(texts: list[str]) -> set[str]:
    words = set()
    for text in texts:
        for word in WORD.findall(CODE.sub(" ", text)):
            if word.lower().strip("'-") not in NAMES:
                words.add(word)
    return words


@pytest.fixture
def own_store(own_services):
    """A run store of this test alone: other tests' runs carry their nicknames (names, not English)."""
    return own_services


@pytest.mark.parametrize("page", PAGES)
def test_every_page_in_chinese_shows_no_english(page, own_store):
    at = app(run=False, lang="zh_CN")
    with i18n.using("zh_CN"):  # AppTest calls a widget's format_func in this thread
        at.run()
        at.switch_page(page).run()
    assert not at.exception, at.exception
    left = english_words(page_texts(at))
    assert not left, f"{page}: English left on the Chinese page: {sorted(left)}"


# ------------------------------------------------------------------------------- the core's messages in Chinese

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_config_errors_come_in_the_current_language():
    from core.config import TrainConfig

    with i18n.using("zh_CN"):
        zh = TrainConfig(lr=-1, model="rnn").errors()
    en = TrainConfig(lr=-1, model="rnn").errors()
    assert len(zh) == len(en) == 2 and all(CJK.search(e) for e in zh)
    assert "lr" in zh[1] and "-1" in zh[1]  # the field's name and the value stay as they are
    assert en[1] == "lr must be between 1e-05 and 10 (got -1)."


def test_dataset_and_model_names_in_chinese_keep_their_data_english():
    from core import data as D
    from core import models as M

    fashion = D.info("fashion-mnist")
    with i18n.using("zh_CN"):
        names, title, short = fashion.class_names, fashion.display_title, M.spec("softmax").short
    assert names[0] == "T恤" and names[9] == "短靴" and len(names) == 10
    assert fashion.classes[0] == "T-shirt/top" and fashion.class_names == fashion.classes  # English: the data
    assert CJK.search(title) and "Fashion-MNIST" in title
    assert short == "softmax回归" and M.spec("softmax").short == "Softmax regression"
    assert D.info("digits").class_names == D.info("digits").classes  # digits are digits in any language


def test_a_jobs_message_is_said_in_the_language_of_whoever_reads_it(tmp_path, monkeypatch):
    from core import data as D
    from core.config import TrainConfig
    from core.events import FAILED, STOPPED
    from core.jobs import JobManager

    def offline(name, root=None, *args, **kwargs):
        raise D.DatasetMissing(D.missing_message(name, root))

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setattr(D, "download", offline)
    mgr = JobManager(cap=2, reap_every_s=60)
    try:
        with i18n.using("zh_CN"):
            bad = mgr.submit(TrainConfig(epochs=0))
            missing = mgr.submit(TrainConfig(dataset="mnist"), nickname="b")
            slow = mgr.submit(TrainConfig(epochs=90, pace="slow"), nickname="c")
        english = mgr.submit(TrainConfig(epochs=0), nickname="d")
        assert bad.wait(60) and missing.wait(60)
        slow.stop()  # kept as an id: each reader reads it in their own language
        assert slow.wait(60) and english.wait(60)
        snaps = [j.snapshot() for j in (bad, missing, slow)]
        assert [s.state for s in snaps] == [FAILED, FAILED, STOPPED]
        with i18n.using("zh_CN"):
            assert all(CJK.search(i18n.shown(s.message)) for s in snaps), [s.message for s in snaps]
        assert i18n.shown(snaps[2].message) == "Stopped by request."  # the teacher's page, in English
        assert "epochs" in snaps[0].message and "train-images-idx3-ubyte" in snaps[1].message
        assert english.snapshot().message == "epochs must be between 1 and 100 (got 0)."
    finally:
        mgr.close()


def test_image_and_loss_advice_in_chinese():
    from core import metrics, preprocess

    with i18n.using("zh_CN"):
        with pytest.raises(preprocess.ImageError) as e:
            preprocess.prepare(b"", 28)
        kind, advice = metrics.diagnose([2.3, 2.29], [2.29], lr=1e-5)
    assert CJK.search(str(e.value)) and "PNG" in str(e.value)
    assert kind == "too_low" and CJK.search(advice) and "0.0001" in advice


def test_every_page_in_chinese_with_a_finished_run_shows_no_english(own_store):
    """The same after a run: its heading, progress line, charts, results, weights and the run tables."""
    at = app(run=False, lang="zh_CN")
    with i18n.using("zh_CN"):
        at.run()
        at.number_input(key="w_epochs").set_value(2).run()
        start_job(at, label="开始训练")
        left = {}
        for page in PAGES:
            at.switch_page(page).run()
            assert not at.exception, (page, at.exception)
            if words := english_words(page_texts(at)):
                left[page] = sorted(words)
    assert not left, f"English left on Chinese pages with a run: {left}"
