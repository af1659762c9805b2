"""Times torchaudio (CPU, one thread) on the spectrogram workloads of
genreid's `time_features` example, set up to compute what librosa computes
(periodic Hann, centred with zero padding, Slaney mel scale and norm), and
prints JSON lines {"workload", "seconds"} (median of REPEATS runs per file,
summed over files), then one line {"agreement": ...} with how far
torchaudio's float32 results are from librosa's on the same files.

Usage: python torchaudio_features.py REPEATS FILE...
"""
import json
import sys

import librosa
import numpy as np
import torch
import torchaudio

from librosa_features import time_workloads

SR = 22050
N_FFT, HOP, N_MELS = 2048, 512, 128

torch.set_num_threads(1)
WINDOW = torch.hann_window(N_FFT)
MEL = torchaudio.transforms.MelSpectrogram(
    sample_rate=SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, power=2.0,
    center=True, pad_mode="constant", mel_scale="slaney", norm="slaney",
)
MFCC = torchaudio.transforms.MFCC(
    sample_rate=SR, n_mfcc=20, dct_type=2, norm="ortho", log_mels=False,
    melkwargs=dict(n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, center=True,
                   pad_mode="constant", mel_scale="slaney", norm="slaney"),
)


def stft(y):
    return torch.stft(y, N_FFT, HOP, window=WINDOW, center=True, pad_mode="constant",
                      return_complex=True).abs()


def mel_db(y):
    # librosa.power_to_db(S, ref=np.max): 10 log10(S / max), floored 80 dB down.
    m = MEL(y)
    return torchaudio.functional.amplitude_to_DB(
        m, multiplier=10.0, amin=1e-10, db_multiplier=float(torch.log10(m.max().clamp(min=1e-10))), top_db=80.0)


WORKLOADS = {
    "stft": stft,
    "melspectrogram": MEL,
    "mel_db": mel_db,
    "mfcc": MFCC,
}


def agreement(signals):
    """Largest relative error of the mel spectrogram and largest dB error
    above the 80 dB floor, against librosa, over all files."""
    mel_rel, db_abs = 0.0, 0.0
    for y in signals:
        want = librosa.feature.melspectrogram(y=y.numpy(), sr=SR)
        got = MEL(y).numpy()
        mel_rel = max(mel_rel, float((np.abs(got - want) / np.maximum(want, 1e-30)).max()))
        want_db = librosa.power_to_db(want, ref=np.max)
        got_db = mel_db(y).numpy()
        above = want_db > want_db.max() - 80.0
        db_abs = max(db_abs, float(np.abs(got_db - want_db)[above].max()))
    return {"mel_max_relative_error": mel_rel, "mel_db_max_abs_error_above_floor": db_abs}


def main():
    repeats = int(sys.argv[1])
    signals = [torch.from_numpy(librosa.load(f, sr=SR)[0]) for f in sys.argv[2:]]
    with torch.inference_mode():
        time_workloads(WORKLOADS, signals, repeats)
        print(json.dumps({"agreement": agreement(signals)}), flush=True)


if __name__ == "__main__":
    main()
