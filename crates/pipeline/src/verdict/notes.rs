//! What the audio says about a verdict before the model says anything:
//! silence, near-silence and audio too short to judge make the genre a
//! guess; a truncated or damaged stream or a cut at the length limit means
//! the verdict rests on less than the file. Thresholds, chosen on what
//! music is: the quietest real masters (solo classical, ambient) sit near
//! −45 dBFS RMS over a whole track, so −60 dBFS leaves a wide margin;
//! digital silence never rises above the 16-bit quantisation step.

use genreid_audio::{Level, Signal, Warning};

use super::VerdictWarning;

/// Peak below which audio is digital silence (half a 16-bit step).
pub const SILENCE_PEAK: f32 = 0.5 / 32_768.0;
/// Whole-track RMS level below which audio is near-silence (dBFS).
pub const NEAR_SILENCE_DBFS: f64 = -60.0;
/// Shortest audio a verdict is given for without doubt (seconds).
pub const MIN_JUDGED_SECONDS: f64 = 1.0;
/// Warning codes that make a verdict a guess (no tag is written for it).
pub const DOUBT_CODES: [&str; 3] = ["silence", "near_silence", "too_short"];

/// The audio behind a verdict: its length, its level, what the decode noticed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AudioFacts {
    /// Seconds analysed.
    pub duration_seconds: f64,
    /// Level over everything analysed.
    pub level: Level,
    /// The decoder's warnings.
    pub warnings: Vec<Warning>,
}

impl AudioFacts {
    /// The facts of a whole decoded signal (no decoder warnings).
    pub fn of(signal: &Signal) -> Self {
        Self {
            duration_seconds: signal.duration_seconds(),
            level: Level::of(&signal.samples),
            warnings: Vec::new(),
        }
    }
}

/// The warnings `facts` call for, and where the audio was cut, if it was.
pub fn notes(facts: &AudioFacts) -> (Vec<VerdictWarning>, Option<f64>) {
    let note = |code: &str, message: String| VerdictWarning { code: code.into(), message };
    let mut out = Vec::new();
    let level = &facts.level;
    if level.samples > 0 {
        if level.peak < SILENCE_PEAK {
            out.push(note("silence", "silence: the audio is digital silence; the genre is a guess".into()));
        } else if level.rms_dbfs() < NEAR_SILENCE_DBFS {
            out.push(note(
                "near_silence",
                format!(
                    "near-silence: the audio's level is {:.1} dBFS (below {NEAR_SILENCE_DBFS} dBFS); the genre is a guess",
                    level.rms_dbfs()
                ),
            ));
        }
        if facts.duration_seconds < MIN_JUDGED_SECONDS {
            out.push(note(
                "too_short",
                format!(
                    "too short: {:.3} s of audio (at least {MIN_JUDGED_SECONDS} s is needed to judge); the genre is a guess",
                    facts.duration_seconds
                ),
            ));
        }
    }
    let mut cut = None;
    for w in &facts.warnings {
        if let Warning::Cut { at_seconds } = w {
            cut = Some(*at_seconds);
        }
        out.push(note(w.code(), w.to_string()));
    }
    (out, cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(facts: &AudioFacts) -> Vec<String> {
        notes(facts).0.into_iter().map(|w| w.code).collect()
    }

    #[test]
    fn silence_near_silence_and_short_audio_are_doubtful() {
        let rate = 16_000;
        let tone: Vec<f32> = (0..rate * 5).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect();
        assert!(codes(&AudioFacts::of(&Signal::new(tone.clone(), rate as u32))).is_empty());
        let silent = Signal::new(vec![0.0; rate * 30], rate as u32);
        assert_eq!(codes(&AudioFacts::of(&silent)), ["silence"]);
        let quiet: Vec<f32> = tone.iter().map(|x| x * 1e-4).collect();
        assert_eq!(codes(&AudioFacts::of(&Signal::new(quiet, rate as u32))), ["near_silence"]);
        let one = Signal::new(vec![0.5], rate as u32);
        assert_eq!(codes(&AudioFacts::of(&one)), ["too_short"]);
    }

    #[test]
    fn decoder_warnings_pass_through_and_a_cut_is_located() {
        let facts = AudioFacts {
            warnings: vec![Warning::Cut { at_seconds: 1200.0 }],
            ..AudioFacts::of(&Signal::new(vec![0.3; 32_000], 16_000))
        };
        let (warnings, cut) = notes(&facts);
        assert_eq!(cut, Some(1200.0));
        assert_eq!(warnings[0].code, "cut");
        assert!(warnings[0].message.contains("1200"), "{}", warnings[0].message);
    }
}
