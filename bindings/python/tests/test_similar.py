"""Similarity libraries from Python: the same rows as ``genreid embed``,
incremental updates, neighbours of files, library tracks and vectors, and
playlists, on real GTZAN clips."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pyarrow.parquet as pq
import pytest

import genreid
from conftest import ROOT, SHARED

GENRES = ["metal", "classical", "hiphop"]


def _clips(tmp_path):
    music = tmp_path / "music"
    for genre in GENRES:
        (music / genre).mkdir(parents=True)
        for i in range(3):
            source = SHARED / "data" / "gtzan" / genre / f"{genre}.{i:05d}.flac"
            assert source.is_file(), f"missing {source}: ../shared/data is needed"
            os.symlink(source, music / genre / source.name)
    (music / "not-audio.wav").write_bytes(b"not a WAV")
    return music


def _cli():
    path = os.environ.get("GENREID_BIN", str(ROOT / "target" / "debug" / "genreid"))
    if not os.path.isfile(path):
        pytest.fail(f"{path} not found: build the genreid binary first (cargo build), which .ci/run does")
    return path


def test_embed_library_matches_the_cli_and_updates_incrementally(tmp_path):
    music = _clips(tmp_path)
    library = tmp_path / "py.parquet"
    summary = genreid.embed([music], out=library)
    assert (summary["embedded"], summary["failed"], summary["skipped"]) == (9, 1, 0)
    assert summary["errors"][0][0].endswith("not-audio.wav")
    again = genreid.embed_library([music], library)
    assert (again["embedded"], again["failed"], again["skipped"]) == (0, 0, 10)

    cli = tmp_path / "cli.parquet"
    subprocess.run([_cli(), "embed", str(music), "--out", str(cli)], capture_output=True, check=False)
    ours, theirs = pq.read_table(library).sort_by("path"), pq.read_table(cli).sort_by("path")
    assert ours.schema.metadata[b"genreid.embedding"] == b"penultimate/mean/l2"
    assert ours.column_names == theirs.column_names
    for column in ("path", "genre", "error", "artist"):
        assert ours.column(column).to_pylist() == theirs.column(column).to_pylist(), column
    a = np.array([v if v is not None else [np.nan] * 200 for v in ours.column("embedding").to_pylist()])
    b = np.array([v if v is not None else [np.nan] * 200 for v in theirs.column("embedding").to_pylist()])
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_similar_neighbours_of_files_tracks_and_vectors(tmp_path):
    music = _clips(tmp_path)
    index = tmp_path / "library.parquet"
    genreid.embed_library([music], index)
    lib = genreid.Library(index)
    assert len(lib) == 9 and lib.embedding == "penultimate/mean/l2"

    query = str(music / "metal" / "metal.00001.flac")
    found = lib.similar(query, k=3)
    assert len(found) == 3 and all(n["path"] != query for n in found)
    assert found[0]["genre"] == "metal"
    assert [n["similarity"] for n in found] == sorted((n["similarity"] for n in found), reverse=True)

    # A copy outside the library is embedded now and finds its original.
    outside = tmp_path / "outside.flac"
    shutil.copy(SHARED / "data" / "gtzan" / "classical" / "classical.00002.flac", outside)
    nearest = genreid.similar(outside, index=index, k=1)[0]
    assert nearest["path"].endswith("classical.00002.flac") and nearest["similarity"] > 0.999

    # Vectors made as the library's: the model's own embedding, normalised.
    vector = genreid.embed([outside], layer="penultimate/mean/l2")[0]
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    by_vector = lib.similar(vector, k=2)
    assert by_vector[0]["path"] == nearest["path"]
    two = lib.similar(np.stack([vector, vector]), k=2)
    assert len(two) == 2 and two[0] == two[1]
    with pytest.raises(genreid.ParameterError, match="wide"):
        lib.similar(np.zeros((1, 7), dtype=np.float32))
    with pytest.raises(genreid.GenreidError, match="neither a track of the library nor an audio file"):
        lib.similar("no/such/file.mp3")


def test_playlist_starts_at_the_seed_without_repeats(tmp_path):
    music = _clips(tmp_path)
    index = tmp_path / "library.parquet"
    genreid.embed_library([music], index)
    seed = str(music / "hiphop" / "hiphop.00000.flac")
    paths = genreid.Library(index).playlist(seed, length=5)
    assert paths[0] == seed and len(paths) == 5 and len(set(paths)) == 5
    with pytest.raises(genreid.ParameterError):
        genreid.Library(index).playlist(seed, spread="genre")
    with pytest.raises(genreid.GenreidError, match="no such library"):
        genreid.Library(tmp_path / "missing.parquet")
