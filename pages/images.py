"""Your own images: the class names a dataset and its classes, adds examples by drawing, photographing or uploading
them, all at once from every laptop, looks at them as the model will, and trains on them from the Train page."""

from __future__ import annotations

import streamlit as st

from core import class_images as C
from core import own_images as O
from core.i18n import N_, ntr, tr
from core.jobs import owner_tag
from core.preprocess import ImageError
from core.store import RunStore, db_errors
from ui.draw import drawing_ui
from ui.i18n import fragment
from ui.labels import md
from ui.roles import is_teacher
from ui.services import current
from ui.session import session_jobs
from ui.state import set_kept

SHOWN_PER_CLASS = 60  # a class's newest examples shown; the counts count them all
SHOWN_DUPLICATES = 8
LIVE_S = 3.0  # the counts follow what classmates add this often

LESSONS = (
    (
        "🤏",
        N_("Too few examples"),
        N_(
            "Train with 3 drawings a class, then with 15: the test accuracy jumps around with a handful, and settles "
            "as each class gets more. How many does your model need?"
        ),
    ),
    (
        "⚖️",
        N_("An unbalanced class"),
        N_(
            "Give one class 30 examples and another 5, train, and open the confusion matrix: the small class is "
            "mistaken for the big one, which the model learned to guess."
        ),
    ),
    (
        "🎨",
        N_("A biased dataset"),
        N_(
            "Photograph one class always on a white sheet and the other on a dark desk: the model may learn the "
            "background, not the object. Then test it with the backgrounds swapped."
        ),
    ),
    (
        "🧑‍🤝‍🧑",
        N_("One student's drawings, another's test"),
        N_(
            "Make a dataset from one student's drawings alone, train, then draw on Inside's canvas as someone else: "
            "a model that knows one hand may not read another."
        ),
    ),
)


def flash(kind: str, text: str) -> None:
    """A message for the next page run (a callback's outcome)."""
    st.session_state.setdefault("img_flash", []).append((kind, text))


def flash_ui() -> None:
    for kind, text in st.session_state.pop("img_flash", []):
        {"success": st.success, "error": st.error, "warning": st.warning}[kind](text)


def me() -> tuple[str, str]:
    """Who adds: this tab's owner tag (so its examples are its own to remove), and the nickname typed on Train."""
    return owner_tag(session_jobs().token), st.session_state.get("_kept", {}).get("w_nick", "").strip()


# ------------------------------------------------------------------------------------------ choose


def create(store: RunStore) -> None:
    name, text = st.session_state.get("img_new_name", ""), st.session_state.get("img_new_classes", "")
    classes = [line for line in text.splitlines() if line.strip()]
    try:
        made = C.create(store, name, classes, *me())
    except O.OwnImagesError as e:
        flash("error", md(str(e)))
        return
    st.session_state["img_dataset"] = made
    flash("success", tr("Dataset {name} made: add examples to its classes below.", name=md(made)))


def import_new(store: RunStore) -> None:
    upload = st.session_state.get("img_new_zip")
    if upload is None:
        flash("error", tr("Choose a .zip file first."))
        return
    name = st.session_state.get("img_new_name", "").strip() or upload.name.rsplit(".", 1)[0]
    try:
        made, n = C.import_zip(store, upload.getvalue(), name=name, by=me()[0], nickname=me()[1])
    except (O.OwnImagesError, ImageError) as e:
        flash("error", md(str(e)))
        return
    st.session_state["img_dataset"] = made
    flash("success", tr("Dataset {name} imported: {n} examples.", name=md(made), n=n))


def new_dataset_ui(store: RunStore, expanded: bool) -> None:
    with st.expander(tr("➕ A new dataset"), expanded=expanded):
        st.text_input(tr("Its name"), key="img_new_name", max_chars=O.MAX_NAME_CHARS, placeholder=tr("shapes"))
        st.text_area(
            tr("Its classes, one a line ({min} to {max})", min=O.MIN_CLASSES, max=O.MAX_CLASSES),
            key="img_new_classes",
            placeholder=tr("circle\nsquare\ntriangle"),
        )
        st.button(tr("Make the dataset"), key="img_create", on_click=create, args=(store,), type="primary")
        st.file_uploader(
            tr("…or import an ImageFolder .zip (one folder per class) as a new dataset"), key="img_new_zip"
        )
        st.button(tr("Import the zip"), key="img_import_new", on_click=import_new, args=(store,))


def pick_ui(store: RunStore) -> dict | None:
    """The dataset to work on (or None while there is none), and the form for a new one."""
    rows = {d["name"]: d for d in store.datasets()}
    if rows:
        if st.session_state.get("img_dataset") not in rows:
            st.session_state["img_dataset"] = next(reversed(rows))  # the newest
        name = st.selectbox(
            tr("Dataset"),
            list(rows),
            key="img_dataset",
            format_func=lambda n: f"{n} ({C.summary(rows[n]['counts'])})",
        )
    else:
        name = None
    new_dataset_ui(store, expanded=not rows)
    return rows.get(name)


# --------------------------------------------------------------------------------------------- add


def add_drawing(store: RunStore, dataset: str) -> None:
    image, label = st.session_state.get("img_drawing"), st.session_state.get("img_class", 0)
    if image is None:
        flash("error", tr("Draw something first."))
        return
    try:
        C.add_arrays(store, dataset, label, [image], *me())
    except (O.OwnImagesError, ImageError) as e:
        flash("error", md(str(e)))
        return
    st.session_state["img_canvas_n"] = st.session_state.get("img_canvas_n", 0) + 1  # a fresh canvas
    st.session_state["img_drawing"] = None
    st.session_state["img_added"] = st.session_state.get("img_added", 0) + 1


def add_files(store: RunStore, dataset: str, base: str) -> None:
    """Add the pictures of the uploader (or the camera) `base`, then empty it."""
    key = f"{base}_{st.session_state.get(f'{base}_n', 0)}"
    files = st.session_state.get(key)
    files = [files] if files is not None and not isinstance(files, list) else files or []
    if not files:
        flash("error", tr("Choose pictures first."))
        return
    label = st.session_state.get("img_class", 0)
    try:
        done = C.add_pictures(store, dataset, label, [(f.name, f.getvalue()) for f in files], *me())
    except O.OwnImagesError as e:
        flash("error", md(str(e)))
        return
    if done.added:
        flash("success", tr("{n} added.", n=done.added))
    for name, why in done.refused:
        flash("error", tr("{file} was not added: {why}", file=md(name), why=md(why)))
    st.session_state[f"{base}_n"] = st.session_state.get(f"{base}_n", 0) + 1  # empty the uploader


def add_zip(store: RunStore, dataset: str) -> None:
    key = f"img_zip_{st.session_state.get('img_zip_n', 0)}"
    upload = st.session_state.get(key)
    if upload is None:
        flash("error", tr("Choose a .zip file first."))
        return
    try:
        _, n = C.import_zip(store, upload.getvalue(), into=dataset, by=me()[0], nickname=me()[1])
    except (O.OwnImagesError, ImageError) as e:
        flash("error", md(str(e)))
        return
    flash("success", tr("{n} added.", n=n))
    st.session_state["img_zip_n"] = st.session_state.get("img_zip_n", 0) + 1


def add_ui(store: RunStore, row: dict) -> None:
    dataset, classes = row["name"], row["classes"]
    st.header(tr("Add examples"))
    if st.session_state.get("img_class", 0) >= len(classes):
        st.session_state["img_class"] = 0
    st.radio(
        tr("To the class"),
        list(range(len(classes))),
        key="img_class",
        horizontal=True,
        format_func=lambda k: md(classes[k]),
    )
    draw, photo, files, archive = st.tabs([tr("✏️ Draw"), tr("📷 Photo"), tr("🖼️ Pictures"), tr("🗜️ A zip")])
    with draw:
        left, right = st.columns([1, 1])
        with left:
            st.session_state["img_drawing"] = drawing_ui(f"img_canvas_{st.session_state.get('img_canvas_n', 0)}")
        with right:
            st.button(
                tr("Add this drawing"),
                key="img_add_drawing",
                on_click=add_drawing,
                args=(store, dataset),
                type="primary",
                icon="➕",
            )
            st.caption(tr("Draw one example, add it, and draw the next: the canvas clears itself."))
    with photo:
        st.camera_input(tr("Take a photo of one example"), key=f"img_camera_{st.session_state.get('img_camera_n', 0)}")
        st.button(
            tr("Add this photo"),
            key="img_add_photo",
            on_click=add_files,
            args=(store, dataset, "img_camera"),
        )
        st.caption(tr("A dark object on a light sheet works best, filling most of the picture."))
    with files:
        key = f"img_files_{st.session_state.get('img_files_n', 0)}"
        st.file_uploader(tr("Pictures (several at once)"), key=key, accept_multiple_files=True)
        st.button(tr("Add these pictures"), key="img_add_files", on_click=add_files, args=(store, dataset, "img_files"))
    with archive:
        st.file_uploader(
            tr("An ImageFolder .zip whose folders are named after this dataset's classes"),
            key=f"img_zip_{st.session_state.get('img_zip_n', 0)}",
        )
        st.button(tr("Add the zip's pictures"), key="img_add_zip", on_click=add_zip, args=(store, dataset))


# -------------------------------------------------------------------------------------------- look


def remove(store: RunStore, ids: list[str]) -> None:
    tags, teacher = {me()[0]}, is_teacher()
    n = 0
    for example_id in ids:
        ex = store.example(example_id)
        if ex is not None and C.may_remove(ex, tags, teacher):
            n += store.remove_example(example_id)
    flash("success", tr("{n} removed.", n=n))


@fragment(run_every=LIVE_S)
def counts_ui(store: RunStore, name: str) -> None:
    """Each class's count and what to look at before training, as the whole class adds: redrawn every LIVE_S."""
    row = store.dataset(name)
    if row is None:
        return
    classes, counts = row["classes"], row["counts"]
    for col, name, n in zip(st.columns(len(classes)), classes, counts):
        col.metric(md(name), n)
    for warning in O.advice(classes, [[None] * n for n in counts]):
        st.warning(md(warning), icon="⚖️")  # class names are data: escaped
    empty = [c for c, n in zip(classes, counts) if n < 2]
    if empty:
        st.info(
            tr(
                "Before a run can start, each class needs at least 2 examples (one to train on, one to test): "
                "{classes}.",
                classes=", ".join(md(c) for c in empty),
            ),
            icon="🧺",
        )


def look_ui(store: RunStore, row: dict) -> None:
    classes, per_class = C.examples_by_class(store, row["name"])
    st.header(tr("Your dataset, as the model will see it"))
    st.caption(
        tr(
            "Each picture greyscale, cropped to its ink, resized into a 20×20 box and centred in 28×28 by its mass, "
            "as MNIST's digits were. {n} of each class are held out to test the model (the same ones for every "
            "run on these examples).",
            n=f"{O.TEST_FRACTION:.0%}",
        )
    )
    counts_ui(store, row["name"])
    tags, teacher = {me()[0]}, is_teacher()
    for name, items in zip(classes, per_class):
        with st.expander(tr("{name}: {n} examples", name=md(name), n=len(items)), expanded=len(items) > 0):
            shown = items[-SHOWN_PER_CLASS:]
            if not shown:
                st.caption(tr("No examples yet."))
                continue
            if len(items) > len(shown):
                st.caption(tr("The newest {n} of {total}.", n=len(shown), total=len(items)))
            first = len(items) - len(shown)
            labels = [f"{name} #{first + i + 1} {e['nickname']}".strip() for i, e in enumerate(shown)]
            st.image(
                [C.png(e["image"]) for e in shown],
                caption=[md(f"#{first + i + 1} {e['nickname']}".strip()) for i, e in enumerate(shown)],
                alt=labels,
                width=64,
            )
            mine = [(first + i + 1, e) for i, e in enumerate(shown) if C.may_remove(e, tags, teacher)]
            if mine:
                picked = st.multiselect(
                    tr("Remove (yours, or any as the teacher)"),
                    [e["id"] for _, e in mine],
                    key=f"img_remove_{name}",
                    format_func=dict((e["id"], f"#{k}") for k, e in mine).get,
                )
                st.button(
                    tr("Remove these"),
                    key=f"img_remove_btn_{name}",
                    on_click=remove,
                    args=(store, picked),
                    disabled=not picked,
                    icon="🗑️",
                )
    duplicates_ui(store, row, classes, per_class)


@st.cache_data(show_spinner=False, max_entries=16)
def near_duplicates(where: str, name: str, revision: int, _images: list) -> list[tuple[int, int]]:
    """O.near_duplicates, once per version of a dataset (a class of 5,000 takes about a second), not every rerun."""
    return O.near_duplicates(_images)


def duplicates_ui(store: RunStore, row: dict, classes: list[str], per_class: list[list[dict]]) -> None:
    flat = [(name, k + 1, e) for name, items in zip(classes, per_class) for k, e in enumerate(items)]
    pairs = near_duplicates(str(store), row["name"], row["revision"], [e["image"] for _, _, e in flat])
    if not pairs:
        return
    st.subheader(ntr("Near-duplicates: {n} pair", "Near-duplicates: {n} pairs", len(pairs)))
    st.caption(
        tr(
            "Two examples that look the same to the model teach it nothing new, and one in the test split tests "
            "what it has already seen. Remove one of each pair, unless they are meant to be there."
        )
    )
    for i, j in pairs[:SHOWN_DUPLICATES]:
        (a_class, a_k, a), (b_class, b_k, b) = flat[i], flat[j]
        st.image(
            [C.png(a["image"]), C.png(b["image"])],
            caption=[f"{md(a_class)} #{a_k}", f"{md(b_class)} #{b_k}"],
            alt=[f"{a_class} #{a_k}", f"{b_class} #{b_k}"],
            width=56,
        )


# ------------------------------------------------------------------------------------------- use


def train_on(dataset: str) -> None:
    set_kept("w_dataset", O.PREFIX + dataset)
    st.session_state["img_go_train"] = True


def use_ui(store: RunStore, row: dict) -> None:
    st.header(tr("Train on it, or take it home"))
    a, b, c = st.columns(3)
    a.button(tr("Train on it"), key="img_train", on_click=train_on, args=(row["name"],), type="primary", icon="🏋️")
    if st.session_state.pop("img_go_train", False):
        st.switch_page("pages/train.py")
    if min(row["counts"]) == 0:  # an ImageFolder zip has a folder of pictures for each class
        b.caption(tr("Export once every class has an example."))
    else:
        b.download_button(
            tr("Export as a zip"),
            data=lambda: C.export_zip(store, row["name"]),
            file_name=f"{row['name']}.zip",
            mime="application/zip",
            key="img_export",
            icon="📦",
            on_click="ignore",
        )
    if is_teacher() or (row["created_by"] and row["created_by"] == me()[0]):
        with c.popover(tr("Delete the dataset"), icon="🗑️"):
            st.caption(tr("Its examples are gone for good; runs already trained on it keep their results."))
            if st.button(tr("Delete {name} for everyone", name=md(row["name"])), key="img_delete", type="primary"):
                store.delete_dataset(row["name"])
                st.session_state.pop("img_dataset", None)
                st.rerun()


def lessons_ui() -> None:
    with st.expander(tr("💡 Lessons to try with your own images")):
        for icon, title, text in LESSONS:
            st.markdown(f"{icon} **{tr(title)}.** {tr(text)}")


def limits_ui() -> None:
    with st.expander(tr("This server's limits")):
        limits = {
            **C.limits(),
            tr("One upload (this server's maxUploadSize)"): tr("{mb} MB", mb=st.get_option("server.maxUploadSize")),
        }
        st.table({tr("What"): list(limits), tr("At most"): list(limits.values())})


def render() -> None:
    st.title(tr("Your own images"))
    st.caption(
        tr(
            "Make a dataset as a class: name its classes, then everyone draws, photographs or uploads examples at "
            "once. Train on it from the Train page, like MNIST."
        )
    )
    flash_ui()
    services = current()
    store = services.store()
    if store is None:
        st.error(services.store_error() or tr("The run store cannot be used."), icon="🗄️")
        return
    try:
        row = pick_ui(store)
        if row is not None:
            add_ui(store, row)
            look_ui(store, row)
            use_ui(store, row)
    except db_errors() as e:
        st.error(tr("The run store failed: {error}", error=e), icon="🗄️")
    lessons_ui()
    limits_ui()


render()
