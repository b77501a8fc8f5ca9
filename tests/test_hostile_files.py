"""Files a student uploads cannot take the server's memory: an archive that inflates to gigabytes is refused
before anything is inflated."""

import json
import subprocess
import sys

from tests.conftest import ROOT


def build_bomb_and_load(size_mb: int) -> dict:
    """In a fresh interpreter: the server's peak memory while a `size_mb` bomb is refused."""
    code = f"""
import io, json, resource, zipfile
from core import models as M
from core.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint

real = zipfile.ZipFile(io.BytesIO(checkpoint_bytes({{"dataset": "digits", "model": "softmax"}},
                                                   M.build("softmax", 8).state_dict(), 0.9)))
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as out:  # the real archive, one tensor's storage now {size_mb} MB of zeros, deflated
    for info in real.infolist():
        if info.filename.endswith("data/0"):
            entry = zipfile.ZipInfo(info.filename)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with out.open(entry, "w", force_zip64=True) as f:
                for _ in range({size_mb}):
                    f.write(bytes(2**20))
        else:
            out.writestr(info, real.read(info))
bomb = buf.getvalue()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_checkpoint(bomb)
    message = None
except CheckpointError as e:
    message = str(e)
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({{"bytes": len(bomb), "message": message, "grew_mb": grew / 1024}}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_checkpoint_that_inflates_to_half_a_gigabyte_is_refused_before_it_is_inflated():
    result = build_bomb_and_load(512)
    assert result["bytes"] < 2 * 2**20  # a small upload, well under the 20 MB cap
    assert result["message"] and "Refused" in result["message"]
    assert result["grew_mb"] < 50, result  # the server's peak memory barely moved
