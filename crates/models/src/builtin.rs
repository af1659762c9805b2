//! The model files built into the binary (nothing to download), as bytes.
//! Parsing them into usable models is the registry's job
//! (`genreid_pipeline::registry`); kinds that start from a built-in
//! tagger's weights (a fine-tunable musicnn) read them here.

/// Built-in model files by name, with what each is.
pub const BUILTIN_MODELS: [(&str, &str, &[u8]); 6] = [
    (
        "musicnn-gtzan",
        "MSD musicnn tagger with a GTZAN genre head (default)",
        include_bytes!("../../../models/musicnn-gtzan.genreid"),
    ),
    (
        "msd-musicnn",
        "musicnn tagger trained on the Million Song Dataset (50 tags)",
        include_bytes!("../../../models/msd-musicnn.genreid"),
    ),
    (
        "mtt-musicnn",
        "musicnn tagger trained on MagnaTagATune (50 tags)",
        include_bytes!("../../../models/mtt-musicnn.genreid"),
    ),
    (
        "msd-vgg",
        "VGG baseline tagger trained on the Million Song Dataset",
        include_bytes!("../../../models/msd-vgg.genreid"),
    ),
    (
        "mtt-vgg",
        "VGG baseline tagger trained on MagnaTagATune",
        include_bytes!("../../../models/mtt-vgg.genreid"),
    ),
    (
        "gtzan57-logreg",
        "logistic regression on the 57 GTZAN features",
        include_bytes!("../../../models/gtzan57-logreg.genreid"),
    ),
];

/// The bytes of the built-in model `name`.
pub fn bytes(name: &str) -> Option<&'static [u8]> {
    BUILTIN_MODELS.iter().find(|(n, _, _)| *n == name).map(|(_, _, b)| *b)
}
