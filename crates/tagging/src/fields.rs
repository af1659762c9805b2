//! What to write: which field, which value, and how it combines with what
//! the file already holds.

use std::fmt;
use std::str::FromStr;

/// A tag field, in format-neutral terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// The standard genre field (ID3v2 `TCON`, Vorbis `GENRE`, RIFF `IGNR`, MP4 `©gen`).
    Genre,
    /// A free-form field: ID3v2 `TXXX:NAME`, Vorbis `NAME`, MP4
    /// `----:com.apple.iTunes:NAME`, RIFF INFO only for four-letter names.
    Custom(String),
}

impl Field {
    /// The field genreid writes its confidence in the verdict to.
    pub fn confidence() -> Self {
        Self::Custom("GENREID_CONFIDENCE".into())
    }

    /// The field genreid writes a tagger model's top tags to.
    pub fn tags() -> Self {
        Self::Custom("GENREID_TAGS".into())
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Genre => f.write_str("genre"),
            Self::Custom(name) => f.write_str(name),
        }
    }
}

impl FromStr for Field {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("genre") {
            return Ok(Self::Genre);
        }
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ' ') {
            return Err(format!("{s:?}: a field name is letters, digits, '_', '-' or spaces"));
        }
        Ok(Self::Custom(s.to_ascii_uppercase()))
    }
}

/// How a new value combines with the values a field already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The field becomes exactly the new value.
    Replace,
    /// The new value is added unless already present (case-insensitively).
    Append,
    /// The field is written only when it is empty.
    FillEmpty,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Replace => "replace",
            Self::Append => "append",
            Self::FillEmpty => "fill-empty",
        })
    }
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "replace" => Ok(Self::Replace),
            "append" => Ok(Self::Append),
            "fill-empty" => Ok(Self::FillEmpty),
            other => Err(format!("{other:?}: mode is replace, append or fill-empty")),
        }
    }
}

/// One field to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The field.
    pub field: Field,
    /// The value genreid wants it to hold.
    pub value: String,
    /// How the value combines with the field's current values.
    pub mode: Mode,
}

/// The values a field should hold after the edit, or `None` when it
/// already holds what the mode asks for (nothing to write).
pub fn planned_values(old: &[String], value: &str, mode: Mode) -> Option<Vec<String>> {
    let present = old.iter().any(|v| v.trim().eq_ignore_ascii_case(value.trim()));
    let empty = old.iter().all(|v| v.trim().is_empty());
    match mode {
        Mode::Replace if old.len() == 1 && old[0] == value => None,
        Mode::Replace => Some(vec![value.to_string()]),
        Mode::Append if present => None,
        Mode::Append => {
            let mut values: Vec<String> = old.iter().filter(|v| !v.trim().is_empty()).cloned().collect();
            values.push(value.to_string());
            Some(values)
        }
        Mode::FillEmpty if empty => Some(vec![value.to_string()]),
        Mode::FillEmpty => None,
    }
}

/// How a model's label is written into a tag: GTZAN's `hiphop` becomes
/// `Hip-Hop`, other lowercase labels are capitalised, anything already
/// mixed-case is kept.
pub fn display_genre(label: &str) -> String {
    match label {
        "hiphop" | "hip-hop" | "hip_hop" => "Hip-Hop".into(),
        "rnb" => "R&B".into(),
        _ if label.chars().any(|c| c.is_uppercase()) => label.into(),
        _ => label
            .split(['-', '_', ' '])
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
            })
            .collect::<Vec<_>>()
            .join(if label.contains('-') { "-" } else { " " }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn replace_writes_unless_identical() {
        assert_eq!(planned_values(&v(&["Rock"]), "Metal", Mode::Replace), Some(v(&["Metal"])));
        assert_eq!(planned_values(&v(&["Metal"]), "Metal", Mode::Replace), None);
        assert_eq!(planned_values(&v(&["Metal", "Rock"]), "Metal", Mode::Replace), Some(v(&["Metal"])));
        assert_eq!(planned_values(&[], "Metal", Mode::Replace), Some(v(&["Metal"])));
    }

    #[test]
    fn append_adds_once() {
        assert_eq!(planned_values(&v(&["Rock"]), "Metal", Mode::Append), Some(v(&["Rock", "Metal"])));
        assert_eq!(planned_values(&v(&["Rock", "metal"]), "Metal", Mode::Append), None);
        assert_eq!(planned_values(&v(&[""]), "Metal", Mode::Append), Some(v(&["Metal"])));
    }

    #[test]
    fn fill_empty_only_fills() {
        assert_eq!(planned_values(&[], "Jazz", Mode::FillEmpty), Some(v(&["Jazz"])));
        assert_eq!(planned_values(&v(&[" "]), "Jazz", Mode::FillEmpty), Some(v(&["Jazz"])));
        assert_eq!(planned_values(&v(&["Blues"]), "Jazz", Mode::FillEmpty), None);
    }

    #[test]
    fn labels_read_well() {
        assert_eq!(display_genre("hiphop"), "Hip-Hop");
        assert_eq!(display_genre("classical"), "Classical");
        assert_eq!(display_genre("Old-Time / Historic"), "Old-Time / Historic");
        assert_eq!(display_genre("easy-listening"), "Easy-Listening");
    }

    #[test]
    fn field_names_parse() {
        assert_eq!("Genre".parse::<Field>(), Ok(Field::Genre));
        assert_eq!("mood".parse::<Field>(), Ok(Field::Custom("MOOD".into())));
        assert!("a=b".parse::<Field>().is_err());
        assert!("fill".parse::<Mode>().is_err());
    }
}
