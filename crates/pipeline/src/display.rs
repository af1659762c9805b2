//! Text from files (tag values, file names, genre labels of a model file)
//! made safe to print on a terminal: control characters escaped, so an
//! escape sequence in a tag cannot retitle the window or clear the screen,
//! and long values shortened, so an 8-MB tag does not flood it. Machine
//! outputs (JSON, CSV, Parquet) keep the values as they are.

use std::borrow::Cow;

/// Characters shown of one value before it is shortened.
pub const MAX_SHOWN_CHARS: usize = 200;

/// `text` with control characters escaped (ESC as `\u{1b}`, a newline as
/// `\n`) and cut at [`MAX_SHOWN_CHARS`] characters with an ellipsis
/// saying how much was left out; borrowed when nothing needed changing.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let long = text.len() > MAX_SHOWN_CHARS && text.chars().nth(MAX_SHOWN_CHARS).is_some();
    if !long && !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::new();
    for c in text.chars().take(MAX_SHOWN_CHARS) {
        if needs_escape(c) {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    if long {
        let left = text.chars().count() - MAX_SHOWN_CHARS;
        shown.push_str(&format!("… ({left} more characters)"));
    }
    Cow::Owned(shown)
}

/// Control characters (C0, DEL, C1) and the bidirectional overrides that
/// can make a name display as another.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        let hostile = "rock\x1b]0;PWNED\x07\x1b[2J";
        assert_eq!(terminal_safe(hostile), "rock\\u{1b}]0;PWNED\\u{7}\\u{1b}[2J");
        assert!(matches!(terminal_safe("Hip-Hop – Déjà vu"), Cow::Borrowed(_)));
        assert_eq!(terminal_safe("a\nb\u{202e}c"), "a\\nb\\u{202e}c");
    }

    #[test]
    fn long_values_are_shortened_with_what_was_left_out() {
        let huge = "x".repeat(8 << 20);
        let shown = terminal_safe(&huge);
        assert!(shown.starts_with(&"x".repeat(MAX_SHOWN_CHARS)));
        assert!(shown.ends_with(&format!("… ({} more characters)", (8 << 20) - MAX_SHOWN_CHARS)));
        assert!(shown.len() < 300);
    }
}
