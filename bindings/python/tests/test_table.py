"""features_table: the CLI's feature table as a DataFrame, equal to librosa's."""

import csv
import warnings

import numpy as np
import pytest

import genreid

from conftest import SHARED, fixture

REFERENCE = SHARED / "fixtures" / "librosa" / "gtzan_features_30_sec.csv"


def test_gtzan57_rows_match_librosa():
    with open(REFERENCE) as f:
        rows = list(csv.DictReader(f))
    exact = [r for r in rows if r["filename"].endswith(".wav") and "stereo" not in r["filename"]]
    files = [fixture(r["filename"]) for r in exact]
    table = genreid.features_table(files, set="gtzan57", n_jobs=2)
    assert list(table.columns[:2]) == ["filename", "length"] and table.columns[-1] == "label"
    assert len(table.columns) == 57 + 3
    for want, (_, got) in zip(exact, table.iterrows()):
        assert got["filename"] == want["filename"]
        assert got["length"] == int(want["length"])
        for col in table.columns[2:-1]:
            g, w = float(got[col]), float(want[col])
            if col == "tempo":
                assert g == pytest.approx(w, rel=1e-12), col
            else:
                assert abs(g - w) / max(abs(w), 1e-12) < 1e-4, f"{want['filename']} {col}: {g} vs {w}"


def test_segments_and_failures(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("nope")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = genreid.features_table([fixture("metal_muldjord_chaos_god"), str(bad)], segment=3.0)
    assert len(table) == 10
    assert table["filename"].tolist()[:2] == ["metal_muldjord_chaos_god.0.wav", "metal_muldjord_chaos_god.1.wav"]
    assert (table["length"] == 66150).all()
    assert table.attrs["errors"][0][0] == str(bad)
    assert any("bad.wav" in str(w.message) for w in caught)
    with pytest.raises(genreid.AudioError, match="bad.wav"):
        genreid.features_table([str(bad)], errors="raise")


def test_fma518_columns():
    table = genreid.features_table(fixture("techno_warzone2100_track1"), set="fma518", duration=10.0)
    assert table.shape == (1, 518 + 3)
    assert table.columns[2] == "chroma_cens_kurtosis_01"
    assert np.isfinite(table.iloc[0, 2:-1].astype(float)).all()
