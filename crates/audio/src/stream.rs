//! Long files a block at a time, so memory does not grow with their length.
//!
//! [`MonoStream`] decodes a file piece by piece (mono, at the file's rate).
//! [`Blocks`] turns it into blocks at a target rate: each block answers for
//! a *core* stretch of the resampled signal and carries margins of real
//! audio on both sides, so anything computed from it (resampling filters,
//! centred STFT frames, 3-s patches) is what the whole-file computation
//! gives in the core, up to float rounding. Block boundaries fall on
//! multiples of a unit where both rates meet exactly (441 samples at
//! 44.1 kHz ↔ 160 at 16 kHz, times `align`), so every block's resampling is
//! the whole file's, shifted.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufReader;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::decode::{PacketReader, file_gapless};
use crate::error::{AudioError, Result};
use crate::limits::{WARN_PEAK, check_samples};
use crate::resample::{resample, resampled_len};
use crate::rf64::{Rf64Reader, is_rf64};
use crate::signal::Signal;
use crate::sniff::SNIFF_LEN;
use crate::sun_au;
use crate::warning::{Warning, push_once};

enum Inner {
    Packets(Box<PacketReader>),
    /// RF64/BW64, read a block at a time.
    Rf64(Box<Rf64Reader<BufReader<File>>>),
    /// Sun `.au`, read whole (GTZAN's clips; the format has no long files in practice).
    Whole(Vec<f32>),
}

/// A file decoded a piece at a time: channel-mean mono at the file's rate.
pub struct MonoStream {
    inner: Inner,
    pending: Vec<f32>,
    sample_rate: u32,
    path: PathBuf,
    ended: bool,
    warnings: Vec<Warning>,
}

impl MonoStream {
    /// Opens `path` (any format [`crate::decode`] reads).
    pub fn open(path: &Path) -> Result<Self> {
        let guarded = catch_unwind(AssertUnwindSafe(|| Self::open_inner(path)));
        guarded.unwrap_or_else(|_| {
            Err(AudioError::Decode {
                path: path.to_path_buf(),
                reason: "decoder panicked on malformed data".into(),
            })
        })
    }

    fn open_inner(path: &Path) -> Result<Self> {
        let io = |e: std::io::Error| AudioError::Io { path: path.to_path_buf(), cause: e };
        let mut head = [0u8; SNIFF_LEN];
        let mut file = File::open(path).map_err(io)?;
        let got = crate::decode::read_up_to(&mut file, &mut head).map_err(io)?;
        let head = &head[..got];
        if got == 0 {
            return Err(AudioError::Empty { path: path.to_path_buf() });
        }
        if head.starts_with(&sun_au::MAGIC) || crate::sniff::unsupported_format(head).is_some() {
            // Sun `.au` is read whole (GTZAN's clips); the formats genreid
            // does not decode get decode's error.
            let decoded = crate::decode(crate::Source::File(path), f64::INFINITY)?;
            return Ok(Self {
                sample_rate: decoded.signal.sample_rate,
                inner: Inner::Whole(decoded.signal.samples),
                pending: Vec::new(),
                path: path.to_path_buf(),
                ended: false,
                warnings: decoded.warnings,
            });
        }
        if is_rf64(head) {
            let file = File::open(path).map_err(io)?;
            let reader = Rf64Reader::open(BufReader::new(file))
                .map_err(|reason| AudioError::InvalidHeader { path: path.to_path_buf(), reason })?;
            return Ok(Self {
                sample_rate: reader.sample_rate,
                inner: Inner::Rf64(Box::new(reader)),
                pending: Vec::new(),
                path: path.to_path_buf(),
                ended: false,
                warnings: Vec::new(),
            });
        }
        let gapless = file_gapless(path, head);
        let file = File::open(path).map_err(io)?;
        let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let mut reader = PacketReader::open(Box::new(file), extension.as_deref(), path, gapless)?;
        // The first packet settles the rate where the header leaves it out.
        let mut pending = Vec::new();
        let more = reader.next_into(&mut pending)?;
        if !more {
            reader.check_end()?;
            return Err(AudioError::NoSamples { path: path.to_path_buf() });
        }
        reader.check_end()?;
        Ok(Self {
            sample_rate: reader.sample_rate,
            inner: Inner::Packets(Box::new(reader)),
            pending,
            path: path.to_path_buf(),
            ended: false,
            warnings: Vec::new(),
        })
    }

    /// What the read so far noticed (truncation and damage are known once
    /// the stream has ended).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Appends up to `n` samples to `out`; fewer only at the end of the file.
    pub fn read(&mut self, n: usize, out: &mut Vec<f32>) -> Result<usize> {
        let path = self.path.clone();
        let guarded = catch_unwind(AssertUnwindSafe(|| self.read_inner(n, out)));
        guarded.unwrap_or_else(|_| {
            Err(AudioError::Decode { path, reason: "decoder panicked on malformed data".into() })
        })
    }

    fn read_inner(&mut self, n: usize, out: &mut Vec<f32>) -> Result<usize> {
        while self.pending.len() < n && !self.ended {
            match &mut self.inner {
                Inner::Packets(reader) => {
                    if !reader.next_into(&mut self.pending)? {
                        self.ended = true;
                        for w in reader.warnings(false) {
                            push_once(&mut self.warnings, w);
                        }
                    } else if reader.sample_rate != self.sample_rate {
                        return Err(AudioError::Decode {
                            path: self.path.clone(),
                            reason: format!(
                                "sample rate changes from {} to {} Hz",
                                self.sample_rate, reader.sample_rate
                            ),
                        });
                    }
                }
                Inner::Rf64(reader) => {
                    let want = n - self.pending.len();
                    let got = reader
                        .read_into(&mut self.pending, want)
                        .map_err(|reason| AudioError::Decode { path: self.path.clone(), reason })?;
                    if got == 0 {
                        self.ended = true;
                    }
                }
                Inner::Whole(samples) => {
                    self.pending.append(samples);
                    self.ended = true;
                }
            }
        }
        let k = n.min(self.pending.len());
        out.extend(self.pending.drain(..k));
        let peak = check_samples(&self.path, &out[out.len() - k..])?;
        if peak > WARN_PEAK {
            push_once(&mut self.warnings, Warning::AboveFullScale { peak });
        }
        Ok(k)
    }
}

/// One block of a [`Blocks`] stream, at the target rate.
#[derive(Debug, Clone)]
pub struct Block {
    /// Samples, margins included.
    pub samples: Vec<f32>,
    /// Index (in the whole resampled signal) of `samples[0]`.
    pub start: usize,
    /// The stretch `[core_start, core_end)` of the whole signal this block answers for.
    pub core_start: usize,
    /// End of the core.
    pub core_end: usize,
    /// Whether this is the last block (it then ends where the signal ends).
    pub last: bool,
}

impl Block {
    /// The samples of the core: what this block answers for.
    pub fn core(&self) -> &[f32] {
        let from = (self.core_start - self.start).min(self.samples.len());
        let to = (self.core_end - self.start).clamp(from, self.samples.len());
        &self.samples[from..to]
    }
}

/// A file as blocks at a target rate (see the module documentation).
pub struct Blocks {
    stream: MonoStream,
    to: u32,
    /// Native samples per unit and target samples per unit.
    unit: (usize, usize),
    core_units: usize,
    left_units: usize,
    right_units: usize,
    /// Native samples held, starting at native index `held_start`.
    held: VecDeque<f32>,
    held_start: usize,
    next_core: usize,
    max_native: usize,
    max_seconds: f64,
    cut: bool,
    done: bool,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl Blocks {
    /// Blocks of `stream` resampled to `to` Hz: cores of about `core_seconds`,
    /// margins of at least `left_seconds` and `right_seconds`, every boundary
    /// a multiple of `align` target samples (an STFT hop, say); at most
    /// `max_seconds` of the file are read.
    pub fn new(
        stream: MonoStream,
        to: u32,
        align: usize,
        core_seconds: f64,
        margins_seconds: (f64, f64),
        max_seconds: f64,
    ) -> Result<Self> {
        let from = stream.sample_rate() as usize;
        if from == 0 || to == 0 || align == 0 {
            return Err(AudioError::InvalidParameter(format!("cannot stream {from} Hz to {to} Hz")));
        }
        let g = gcd(from, to as usize);
        let (native, target) = (from / g, to as usize / g);
        // The unit: a multiple of both the rate ratio's target side and `align`.
        let k = align / gcd(align, target);
        let unit = (native * k, target * k);
        let units = |seconds: f64| ((seconds * f64::from(to)) / unit.1 as f64).ceil().max(1.0) as usize;
        Ok(Self {
            max_native: crate::decode::frames_in(max_seconds, from as u32),
            max_seconds,
            cut: false,
            stream,
            to,
            unit,
            core_units: units(core_seconds),
            left_units: units(margins_seconds.0),
            right_units: units(margins_seconds.1),
            held: VecDeque::new(),
            held_start: 0,
            next_core: 0,
            done: false,
        })
    }

    /// Samples per second of the blocks.
    pub fn sample_rate(&self) -> u32 {
        self.to
    }

    /// What the read so far noticed, and a [`Warning::Cut`] when the file
    /// goes on past the limit.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = self.stream.warnings().to_vec();
        if self.cut {
            warnings.push(Warning::Cut { at_seconds: self.max_seconds });
        }
        warnings
    }

    /// The next block, or `None` after the last.
    pub fn next_block(&mut self) -> Result<Option<Block>> {
        if self.done {
            return Ok(None);
        }
        let (un, ut) = self.unit;
        let core_start = self.next_core;
        let start = core_start.saturating_sub(self.left_units * ut);
        let want_end = core_start + (self.core_units + self.right_units) * ut;
        // Native samples [start·r, want_end·r), read as far as the file goes.
        let native_start = start / ut * un;
        let native_end = (want_end / ut * un).min(self.max_native);
        while self.held.len() < native_end - self.held_start {
            let mut chunk = Vec::new();
            let want = (native_end - self.held_start - self.held.len()).min(1 << 16);
            if self.stream.read(want, &mut chunk)? == 0 {
                break;
            }
            self.held.extend(chunk);
        }
        // Forget what no later block needs.
        let drop = native_start.saturating_sub(self.held_start).min(self.held.len());
        self.held.drain(..drop);
        self.held_start += drop;
        let available_end = self.held_start + self.held.len();
        let last = available_end < native_end || native_end == self.max_native;
        if available_end == self.max_native {
            // At the limit: one more sample says whether the file goes on
            // (damage past the limit does not matter: nothing there is used).
            self.cut = matches!(self.stream.read(1, &mut Vec::new()), Ok(n) if n > 0);
        }
        let native: Vec<f32> = self.held.iter().copied().collect();
        let signal = resample(&Signal::new(native, self.stream.sample_rate()), self.to)?;
        let total_end =
            start + resampled_len(available_end - native_start, self.stream.sample_rate(), self.to);
        let core_end = if last { total_end } else { core_start + self.core_units * ut };
        self.next_core = core_end;
        self.done = last;
        Ok(Some(Block { samples: signal.samples, start, core_start, core_end, last }))
    }
}
