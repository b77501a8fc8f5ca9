"""The live feed a running job's view fetches every second (pages/feed.py), called as the server calls it."""

import asyncio
import json
import re
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from core import i18n
from core.config import TrainConfig
from tests.conftest import plotly_array
from ui import feed
from ui.services import current

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def get(key: str, **query):
    request = SimpleNamespace(path_params={"key": key}, query_params={k: str(v) for k, v in query.items()})
    with ThreadPoolExecutor(1) as pool:  # its own thread: the browser tests leave an event loop on this one
        response = pool.submit(asyncio.run, feed.live_feed(request)).result()
    return response.status_code, json.loads(response.body)


def test_feed_answers_a_jobs_view_as_the_page_draws_it():
    job = current().jobs.submit(TrainConfig(dataset="digits", epochs=3))
    assert job.wait(60)
    s = job.snapshot()
    status, body = get(job.owner_key)
    assert status == 200 and body == json.loads(json.dumps(feed.view_data(s)))
    assert body["state"] == "done" and body["head"].startswith("✅ Done: Softmax regression on Digits")
    assert body["progress"]["value"] == 1.0 and "epoch 3/3" in body["progress"]["text"]
    loss, epochs = (json.loads(f) for f in body["figures"])
    assert body["names"] == ["chart_loss", "chart_epochs"]
    assert len(plotly_array(loss["data"][0]["x"])) == len(s.steps) and len(loss["data"]) == 2  # raw + smoothed
    assert list(plotly_array(epochs["data"][0]["x"])) == [1, 2, 3]
    assert len(json.loads(get(job.owner_key, smooth=0)[1]["figures"][0])["data"]) == 1  # the smoothing off
    assert get(job.id) == (404, {"state": "gone"})  # the run's public id follows nothing: only its owner key


def test_feed_says_gone_for_a_job_the_server_does_not_have():
    assert get("job0-nothere") == (404, {"state": "gone"})


def test_feed_speaks_the_pages_language():
    """The page's language travels in the feed's URL (?lang=): the heading and progress line the live view
    redraws each second are in it, English without one."""
    job = current().jobs.submit(TrainConfig(dataset="digits", epochs=2))
    assert job.wait(60)
    assert feed.url(job, True).endswith("?smooth=1&lang=en")
    with i18n.using("zh_CN"):
        assert feed.url(job, False).endswith("?smooth=0&lang=zh_CN")
    status, body = get(job.owner_key, lang="zh_CN")
    assert status == 200 and body["head"].startswith("✅ ") and CHINESE.search(body["head"])
    assert not body["head"].startswith("✅ Done") and CHINESE.search(body["progress"]["text"])
    assert i18n.language() == "en"  # the request's language stayed in the request
    for query in ({}, {"lang": "en"}, {"lang": "xx"}):  # none, English, or one the dashboard does not speak
        status, body = get(job.owner_key, **query)
        assert body["head"].startswith("✅ Done: Softmax regression on Digits") and not CHINESE.search(body["head"])
