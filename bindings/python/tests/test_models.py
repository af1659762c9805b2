"""classify, embed, tags and Model against the CLI's own records."""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import genreid

from conftest import ROOT, SHARED, fixture

GTZAN = SHARED / "data" / "gtzan"


def cli():
    exe = pathlib.Path(os.environ.get("GENREID_BIN", ROOT / "target" / "debug" / "genreid"))
    assert exe.is_file(), f"the genreid binary is needed at {exe} (cargo build, or set GENREID_BIN)"
    return str(exe)


def strip(record):
    return {k: v for k, v in record.items() if k != "path"}


@pytest.mark.parametrize("model", ["musicnn-gtzan", "gtzan57-logreg"])
def test_classify_equals_the_cli(model):
    files = [fixture("metal_muldjord_chaos_god"), str(GTZAN / "jazz" / "jazz.00001.flac"),
             fixture("rock_sectoid_escape_from_chaosland_stereo44k_128k.mp3")]
    got = genreid.classify(files, model=model, segments=True)
    out = subprocess.run([cli(), "classify", "--model", model, "--segments", "--format", "json", *files],
                         check=True, capture_output=True, text=True).stdout
    want = json.loads(out)
    assert [r["path"] for r in got] == files
    for g, w in zip(got, want):
        assert g.keys() == w.keys()
        assert g["genre"] == w["genre"] and g["vote"] == w["vote"]
        for label, p in w["probabilities"].items():
            assert abs(g["probabilities"][label] - p) < 1e-9
        assert len(g["segments"]) == len(w["segments"])


def test_model_object():
    m = genreid.Model.load("musicnn-gtzan")
    assert m.kind == "tagger" and len(m.labels) == 10 and "rock" in m.labels and len(m.tags) == 50
    files = [fixture("metal_muldjord_chaos_god"), fixture("orchestral_wesnoth_heroes_rite")]
    p = m.predict_proba(files)
    assert p.shape == (2, 10) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert m.predict(files) == [r["genre"] for r in genreid.classify(files, model=m)]
    assert [name for name, _ in genreid.builtin_models()][0] == "musicnn-gtzan"


def test_arrays_equal_files():
    path = fixture("techno_warzone2100_track1")
    y, sr = genreid.load(path)
    by_file = genreid.classify(path)[0]
    by_array = genreid.classify([y], sr=sr)[0]
    assert by_array["path"] == "array[0]"
    for label, p in by_file["probabilities"].items():
        assert abs(by_array["probabilities"][label] - p) < 1e-5


def test_embed_and_tags():
    files = [fixture("metal_muldjord_chaos_god"), fixture("ambient_singularity_through_space")]
    e = genreid.embed(files)
    assert e.shape == (2, 200) and e.dtype == np.float32 and np.isfinite(e).all()
    y, sr = genreid.load(files[0])
    np.testing.assert_allclose(genreid.embed(y, sr=sr)[0], e[0], atol=1e-4)
    assert genreid.embed(files, layer="taggram").shape == (2, 50)
    t = genreid.tags(files, top=5)
    assert len(t) == 2 and len(t[0]) == 5
    assert list(t[0].values()) == sorted(t[0].values(), reverse=True)
    with pytest.raises(genreid.AudioError):
        genreid.embed([files[0], "/no/such/file.wav"])
    rows = genreid.embed([files[0], "/no/such/file.wav"], errors="nan")
    assert np.isfinite(rows[0]).all() and np.isnan(rows[1]).all()


def test_folders_are_walked():
    records = genreid.classify(str(GTZAN / "blues"), model="gtzan57-logreg", n_jobs=2, progress=False)
    assert len(records) == len(list((GTZAN / "blues").glob("*.flac")))
