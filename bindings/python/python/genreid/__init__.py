"""genreid: music genre classification, and librosa-equal audio features, fast.

>>> import genreid
>>> y, sr = genreid.load("song.mp3")                        # like librosa.load
>>> S = genreid.feature.melspectrogram(y=y, sr=sr)          # librosa's numbers
>>> genreid.classify(["song.mp3"])[0]["genre"]              # built-in musicnn model
'rock'
>>> genreid.embed(["~/Music"], out="library.parquet")        # a similarity library
>>> genreid.similar("song.mp3", index="library.parquet", k=5)

The feature functions keep librosa 0.11's names, keyword arguments,
defaults, shapes and (for float32 audio) dtypes; an argument genreid does
not implement raises ``NotImplementedError`` naming it. Every call runs in
Rust with the GIL released; batch calls (``features_table``, ``classify``,
``embed``) use every core.
"""

from . import beat, effects, feature, filters, onset
from ._native import AudioError, FeatureError, GenreidError, ModelError, ParameterError, __version__
from .core import AudioWarning, amplitude_to_db, cqt, db_to_power, istft, load, power_to_db, resample, stft
from .models import DEFAULT_MODEL, Model, builtin_models, classify, embed, tags
from .similar import Library, embed_library, similar
from .table import FeatureWarning, features_table

__all__ = [
    "load", "resample", "stft", "istft", "power_to_db", "amplitude_to_db", "db_to_power", "cqt",
    "feature", "onset", "beat", "effects", "filters",
    "features_table", "classify", "embed", "tags", "Model", "builtin_models", "DEFAULT_MODEL",
    "Library", "embed_library", "similar",
    "GenreidError", "AudioError", "FeatureError", "ModelError", "ParameterError", "FeatureWarning", "AudioWarning",
    "__version__",
]
