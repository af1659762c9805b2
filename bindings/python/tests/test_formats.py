"""Every library format through the Python package: ``load`` gives the
source's samples (lossless) or ffmpeg's within a small error (lossy),
``classify`` gives the source's verdict, ``features_table`` reads them, and
WMA is a plain ``AudioError``."""

import numpy as np
import pytest

import genreid

from conftest import SHARED

FORMATS = SHARED / "fixtures" / "formats"
LOSSLESS = ["alac.m4a", "aiff.aiff", "caf.caf", "flac.mka"]
LOSSY = ["aac.m4a", "aac_tagged.m4a", "opus.opus", "opus.webm"]


def path(name):
    p = FORMATS / name
    assert p.is_file(), f"missing fixture {p}"
    return str(p)


@pytest.mark.parametrize("name", LOSSLESS)
def test_lossless_formats_load_as_the_source(name):
    want, sr = genreid.load(path("source.wav"), sr=None)
    got, got_sr = genreid.load(path(name), sr=None)
    assert got_sr == sr == 44100
    assert got.shape == want.shape and np.array_equal(got, want)


def test_aac_loads_like_ffmpeg():
    got, sr = genreid.load(path("aac.m4a"), sr=None)
    want, _ = genreid.load(path("aac.m4a.ffmpeg.wav"), sr=None)
    assert sr == 44100 and len(got) == 441000  # the edit list's length
    assert np.max(np.abs(got - want[: len(got)])) < 1e-4


def test_opus_loads_like_libopus():
    got, sr = genreid.load(path("opus.opus"), sr=None)
    want, _ = genreid.load(path("opus.opus.ffmpeg.wav"), sr=None)
    assert sr == 48000 and got.shape == want.shape
    err = np.sum((got - want) ** 2)
    assert 10 * np.log10(np.sum(want**2) / err) > 80


def test_every_format_gets_the_sources_verdict():
    files = [path("source.wav")] + [path(n) for n in LOSSLESS + LOSSY]
    records = genreid.classify(files)
    genres = {r["path"]: r.get("genre") for r in records}
    assert set(genres.values()) == {records[0]["genre"]}, genres


def test_features_table_reads_library_formats():
    table = genreid.features_table([path(n) for n in LOSSLESS + LOSSY], set="gtzan57", errors="raise")
    assert len(table) == len(LOSSLESS + LOSSY)
    assert np.isfinite(table.select_dtypes("number").to_numpy()).all()


def test_wma_is_a_plain_audio_error():
    with pytest.raises(genreid.AudioError, match="WMA.*not supported"):
        genreid.load(path("wma.wma"))
