//! What a decode noticed that does not stop it: the file still gives audio,
//! but a user deserves to know that the verdict rests on less than they think.

/// Something noticed while decoding, reported with the result.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// The stream ended before the length its header announces (a file cut
    /// short in a copy or a download).
    Truncated {
        /// Seconds the header announces.
        announced_seconds: f64,
        /// Seconds actually decoded.
        decoded_seconds: f64,
    },
    /// Packets that could not be decoded were skipped, or the container
    /// broke off in the middle.
    Damaged {
        /// Packets skipped.
        skipped_packets: usize,
        /// The decoder's last reason.
        reason: String,
    },
    /// The audio goes on past the caller's limit and was cut there.
    Cut {
        /// Where the audio was cut, in seconds from the file's start.
        at_seconds: f64,
    },
    /// Samples well above full scale (beyond [`crate::limits::WARN_PEAK`])
    /// but within [`crate::MAX_PEAK`]: kept as they are (librosa keeps them
    /// too), though they clip on playback and can sway a model.
    AboveFullScale {
        /// The largest magnitude.
        peak: f32,
    },
    /// The audio is shorter than one segment and was padded with silence
    /// to the segment's length (as librosa's `fix_length` pads).
    Padded {
        /// Seconds of audio.
        audio_seconds: f64,
        /// The segment's length, in seconds.
        segment_seconds: f64,
    },
}

impl Warning {
    /// A short stable name for the kind of warning (`truncated`, `damaged`,
    /// `cut`, `above_full_scale`, `padded`).
    pub fn code(&self) -> &'static str {
        match self {
            Warning::Truncated { .. } => "truncated",
            Warning::Damaged { .. } => "damaged",
            Warning::Cut { .. } => "cut",
            Warning::AboveFullScale { .. } => "above_full_scale",
            Warning::Padded { .. } => "padded",
        }
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::Truncated { announced_seconds, decoded_seconds } => write!(
                f,
                "truncated: the header announces {announced_seconds:.2} s but the stream ends after \
                 {decoded_seconds:.2} s"
            ),
            Warning::Damaged { skipped_packets, reason } => {
                write!(f, "damaged: {skipped_packets} undecodable packet(s) skipped ({reason})")
            }
            Warning::Cut { at_seconds } => {
                write!(f, "cut: the audio goes on past the {at_seconds:.0}-s limit and was cut there")
            }
            Warning::AboveFullScale { peak } => {
                write!(f, "above full scale: samples reach {peak:.3} (full scale is 1.0)")
            }
            Warning::Padded { audio_seconds, segment_seconds } => write!(
                f,
                "padded: {audio_seconds:.2} s of audio is shorter than one {segment_seconds}-s segment, \
                 so the row is mostly silence"
            ),
        }
    }
}

/// Adds `w` unless a warning of the same kind is already there.
pub(crate) fn push_once(list: &mut Vec<Warning>, w: Warning) {
    if !list.iter().any(|x| x.code() == w.code()) {
        list.push(w);
    }
}
