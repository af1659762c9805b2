//! Turns the TensorFlow checkpoints of the `musicnn` 0.1.0 wheel into
//! genreid tagger files: inference tensors only (Adam slots dropped), tag
//! labels from the wheel's `configuration.py`, its ISC licence attached.

use std::path::Path;

use super::file::{Architecture, LogMelInput, TAGGER_VERSION, TaggerFile, TaggerManifest};
use super::tf_checkpoint::read_checkpoint;
use super::weights::{Weight, Weights};
use super::{Tagger, musicnn};
use crate::{FORMAT, ModelError, Result};

/// The four taggers of the wheel: (checkpoint folder, architecture, label list).
pub const WHEEL_MODELS: [(&str, Architecture, &str); 4] = [
    ("MSD_musicnn", Architecture::Musicnn, "MSD_LABELS"),
    ("MTT_musicnn", Architecture::Musicnn, "MTT_LABELS"),
    ("MSD_vgg", Architecture::Vgg, "MSD_LABELS"),
    ("MTT_vgg", Architecture::Vgg, "MTT_LABELS"),
];

/// Weights each architecture uses at inference (PORTING.md §5–6).
const INFERENCE_TENSORS: [(Architecture, usize); 2] = [(Architecture::Musicnn, 64), (Architecture::Vgg, 36)];

/// The string list assigned to `name` in a Python source (`NAME = ['a', 'b']`).
pub fn python_string_list(source: &str, name: &str) -> Result<Vec<String>> {
    let missing = || ModelError::InvalidInput(format!("no list {name} = [...] in configuration.py"));
    let start = source.find(&format!("{name} = [")).ok_or_else(missing)?;
    let body = &source[start..];
    let body = &body[body.find('[').ok_or_else(missing)? + 1..body.find(']').ok_or_else(missing)?];
    let mut labels = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find(['\'', '"']) {
        let quote = rest.as_bytes()[open] as char;
        let after = &rest[open + 1..];
        let close = after.find(quote).ok_or_else(missing)?;
        labels.push(after[..close].to_string());
        rest = &after[close + 1..];
    }
    Ok(labels)
}

/// Reads one checkpoint of an unpacked musicnn wheel (`wheel_root/musicnn/<name>/`)
/// and checks that the network builds from it.
pub fn convert_wheel_model(wheel_root: &Path, name: &str) -> Result<TaggerFile> {
    let (_, architecture, list) = WHEEL_MODELS
        .iter()
        .copied()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| ModelError::InvalidInput(format!("{name} is not one of the wheel's taggers")))?;
    let package = wheel_root.join("musicnn");
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .map_err(|e| ModelError::File { path: p.to_path_buf(), reason: e.to_string() })
    };
    let tags = python_string_list(&read(&package.join("configuration.py"))?, list)?;
    let licence = read(&wheel_root.join("musicnn-0.1.0.dist-info").join("LICENSE.md"))?;
    let mut prefix = package.join(name).into_os_string();
    prefix.push("/");
    let weights: Weights = read_checkpoint(Path::new(&prefix))?
        .into_iter()
        .filter(|(k, t)| !k.ends_with("/Adam") && !k.ends_with("/Adam_1") && !t.shape.is_empty())
        .map(|(k, t)| (k, Weight { shape: t.shape, values: t.values }))
        .collect();
    let expected = INFERENCE_TENSORS.iter().find(|(a, _)| *a == architecture).map_or(0, |(_, n)| *n);
    if weights.len() != expected {
        return Err(ModelError::InvalidInput(format!(
            "{name}: {} inference tensors, expected {expected}",
            weights.len()
        )));
    }
    let file = TaggerFile {
        manifest: TaggerManifest {
            format: FORMAT.into(),
            version: TAGGER_VERSION,
            architecture,
            name: name.into(),
            tags,
            input: LogMelInput::musicnn(),
            genre_head: None,
            licence: format!(
                "Weights from musicnn 0.1.0 (https://github.com/jordipons/musicnn) by Jordi Pons, Xavier Serra \
                 et al., under the ISC licence:\n\n{licence}"
            ),
            provenance: serde_json::json!({
                "source": format!("musicnn-0.1.0-py3-none-any.whl: musicnn/{name}/ (TensorFlow checkpoint)"),
                "converter": "genreid import-musicnn",
                "embedding_width": if architecture == Architecture::Musicnn { musicnn::EMBEDDING } else { 0 },
            }),
        },
        weights,
    };
    Tagger::new(file.clone())?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_python_label_lists() {
        let src = "SR = 1\nMTT_LABELS = ['guitar', \"no vocals\", 'rock']\nMSD_LABELS = ['Hip-Hop','80s']\n";
        assert_eq!(python_string_list(src, "MTT_LABELS").unwrap(), ["guitar", "no vocals", "rock"]);
        assert_eq!(python_string_list(src, "MSD_LABELS").unwrap(), ["Hip-Hop", "80s"]);
        assert!(python_string_list(src, "OTHER").is_err());
    }
}
