"""The examples in examples/python run and print what they promise."""

import subprocess
import sys

from conftest import ROOT, SHARED

EXAMPLES = ROOT / "examples" / "python"


def run(name, *args):
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], check=True, capture_output=True,
                          text=True, timeout=600).stdout


def test_quickstart():
    out = run("quickstart.py", str(SHARED / "fixtures" / "audio" / "metal_muldjord_chaos_god.wav"))
    assert "genre:" in out and "BPM" in out and "tags:" in out


def test_genre_table():
    out = run("genre_table.py", str(SHARED / "data" / "gtzan"))
    assert "nearest-centroid accuracy" in out
