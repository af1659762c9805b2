"""genreid.ray: Ray Data over real GTZAN clips gives the CLI's Parquet rows."""

import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import ray  # requirements-test.txt pins it

import genreid
import genreid.ray

from conftest import ROOT, SHARED
from test_models import cli

GTZAN = SHARED / "data" / "gtzan"


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    """Six real clips in genre folders, and a file that is not audio."""
    root = tmp_path_factory.mktemp("ray") / "music"
    for genre in ["blues", "metal", "classical"]:
        (root / genre).mkdir(parents=True)
        for i in range(2):
            name = f"{genre}.{i:05d}.flac"
            source = GTZAN / genre / name
            assert source.is_file(), f"{source} is missing: ../shared/data is needed"
            os.symlink(source, root / genre / name)
    (root / "blues" / "not-audio.wav").write_bytes(b"text, not a WAV")
    return root


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def by_path(table):
    rows = table.to_pylist()
    return sorted(rows, key=lambda r: r["path"])


def test_ray_rows_equal_the_cli_parquet(music, local_ray, tmp_path):
    want = tmp_path / "cli.parquet"
    done = subprocess.run([cli(), "classify", "--segments", "--out", str(want), str(music)],
                          capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # the bad file
    expected = by_path(pq.read_table(want))
    assert len(expected) == 7

    rows = genreid.ray.classify(str(music), segments=True, concurrency=2, batch_size=3)
    got = by_path(pa.concat_tables(ray.get(rows.to_arrow_refs())))
    assert got == expected, "every column of every row, as the CLI wrote them"
    bad = [r for r in got if r["path"].endswith("not-audio.wav")]
    assert len(bad) == 1 and bad[0]["genre"] is None and "not-audio.wav" in bad[0]["error"]

    out = tmp_path / "ray-out"
    genreid.ray.classify(str(music), out=str(out), segments=True, concurrency=1)
    assert by_path(pq.read_table(out)) == expected


def test_the_batch_function_takes_a_table_and_names_what_is_missing(music):
    model = genreid.Model("musicnn-gtzan")._native
    table = genreid.ray.paths_table(str(music / "metal"))
    assert table.column("relative_path").to_pylist() == ["metal.00000.flac", "metal.00001.flac"]
    rows = genreid.ray.classify_batch(model, table, embedding="penultimate")
    assert rows.num_rows == 2 and rows.column("error").null_count == 2
    assert len(rows.column("embedding")[0].as_py()) == 200
    with pytest.raises(TypeError, match="'path' column"):
        genreid.ray.classify_batch(model, {"file": ["x.wav"]})


def test_the_deploy_script_writes_the_same_rows(music, tmp_path):
    """deploy/ray/classify.py as its docstring runs it (Ray started locally)."""
    want = tmp_path / "cli.parquet"
    subprocess.run([cli(), "classify", "--segments", "--out", str(want), str(music)], capture_output=True)
    out = tmp_path / "results"
    script = ROOT / "deploy" / "ray" / "classify.py"
    done = subprocess.run([sys.executable, str(script), str(music), f"{out}/", "--concurrency", "1",
                           "--num-cpus", "2"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert by_path(pq.read_table(out)) == by_path(pq.read_table(want))
