"""Bad input raises the documented exception, naming the file or argument."""

import numpy as np
import pytest

import genreid

from conftest import fixture


def test_exceptions_are_value_errors():
    for e in [genreid.AudioError, genreid.FeatureError, genreid.ModelError, genreid.ParameterError]:
        assert issubclass(e, genreid.GenreidError) and issubclass(e, ValueError)


def test_non_audio_file(tmp_path):
    bad = tmp_path / "notes.mp3"
    bad.write_text("not audio at all")
    with pytest.raises(genreid.AudioError, match="notes.mp3"):
        genreid.load(bad)
    with pytest.raises(genreid.AudioError, match="no-such-file"):
        genreid.load(tmp_path / "no-such-file.wav")


def test_bad_arrays():
    with pytest.raises(genreid.ParameterError, match="empty"):
        genreid.stft(np.zeros(0, dtype=np.float32))
    with pytest.raises(genreid.ParameterError, match="floating-point"):
        genreid.feature.melspectrogram(y=np.zeros(4096, dtype=np.int16))
    y = np.zeros(4096, dtype=np.float32)
    y[100] = np.nan
    with pytest.raises(genreid.ParameterError, match="finite"):
        genreid.feature.mfcc(y=y)
    with pytest.raises(NotImplementedError, match="mono"):
        genreid.stft(np.zeros((2, 4096), dtype=np.float32))
    with pytest.raises(genreid.ParameterError):
        genreid.feature.spectral_rolloff(y=np.ones(4096, dtype=np.float32), roll_percent=1.5)


def test_unsupported_arguments_are_named():
    y = np.zeros(4096, dtype=np.float32)
    with pytest.raises(NotImplementedError, match="window"):
        genreid.stft(y, window="hamming")
    with pytest.raises(NotImplementedError, match="pad_mode"):
        genreid.feature.melspectrogram(y=y, pad_mode="reflect")
    with pytest.raises(NotImplementedError, match="lifter"):
        genreid.feature.mfcc(y=y, lifter=22)
    with pytest.raises(NotImplementedError, match="margin"):
        genreid.effects.hpss(y, margin=2.0)
    with pytest.raises(NotImplementedError, match="mono"):
        genreid.load(fixture("rock_sectoid_escape_from_chaosland"), mono=False)
    with pytest.raises(TypeError, match="n_melz"):
        genreid.feature.melspectrogram(y=y, n_melz=64)
    with pytest.raises(TypeError):
        genreid.stft(y, hop=256)


def test_bad_model():
    with pytest.raises(genreid.ModelError, match="no-such-model"):
        genreid.Model("no-such-model")


def test_a_bad_file_among_good_ones_is_a_record(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    records = genreid.classify([fixture("metal_muldjord_chaos_god"), str(bad)])
    assert records[0]["genre"] and "error" not in records[0]
    assert "broken.wav" in records[1]["error"]


def test_a_truncated_file_loads_with_a_warning(tmp_path):
    import wave

    path = tmp_path / "cut.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes((np.sin(np.arange(22050) * 0.05) * 8000).astype("<i2").tobytes())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the header still claims the whole second
    with pytest.warns(genreid.AudioWarning, match="cut.wav"):
        y, sr = genreid.load(path)
    assert sr == 22050 and 0 < len(y) < 22050
