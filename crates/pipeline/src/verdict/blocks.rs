//! Classifying long files block by block (`audio::Blocks`: resampled blocks
//! with margins of real audio, boundaries on multiples of a segment or an
//! STFT hop), so that memory does not grow with a file's length. Every
//! segment is computed from the same samples as from the whole file, up to
//! the resampler's rounding (the margins keep block edges away from the
//! segments); a file of one block takes exactly the whole-file path.

use std::path::Path;

use genreid_audio::{AudioError, Block, Blocks, Level, MonoStream, Signal};
use genreid_features::input::cut_segment;

use super::{
    AudioFacts, ClassifyOptions, Probabilities, Verdict, classify_classical, classify_network, combine,
    frame_spans, segment_probabilities,
};
use genreid_models::{ModelError, ModelFile, Result, neural};

/// Seconds of audio a block holds (plus margins).
pub const BLOCK_SECONDS: f64 = 120.0;

fn bad(e: AudioError) -> ModelError {
    ModelError::InvalidInput(e.to_string())
}

/// The facts of a file read in blocks: the level over every block's core.
pub(crate) fn block_facts(blocks: &Blocks, level: Level, last: &Block) -> AudioFacts {
    AudioFacts {
        duration_seconds: last.core_end as f64 / f64::from(blocks.sample_rate()),
        level,
        warnings: blocks.warnings(),
    }
}

/// A classical model on a file read in blocks whose boundaries fall on
/// segment boundaries.
pub fn classify_classical_blocks(
    model: &ModelFile,
    path: &Path,
    options: &ClassifyOptions,
    block_seconds: f64,
) -> Result<Verdict> {
    let name = genreid_data::path_text(path);
    let stream = MonoStream::open(path).map_err(bad)?;
    let pre = &model.preprocessing;
    let rate = if pre.sample_rate > 0 { pre.sample_rate } else { stream.sample_rate() };
    let seg_len = (pre.segment_seconds * f64::from(rate)).round() as usize;
    let mut blocks =
        Blocks::new(stream, rate, seg_len.max(1), block_seconds, (1.0, 1.0), options.max_seconds)
            .map_err(bad)?;
    let Some(mut block) = blocks.next_block().map_err(bad)? else {
        return Err(ModelError::InvalidInput("no audio".into()));
    };
    if block.last {
        let signal = Signal::new(block.samples, rate);
        let facts = AudioFacts { warnings: blocks.warnings(), ..AudioFacts::of(&signal) };
        return Ok(classify_classical(&signal, &name, model, options)?.noted(&facts));
    }
    let sr = f64::from(rate);
    let (mut per_segment, mut spans, mut level) = (Vec::new(), Vec::new(), Level::default());
    loop {
        options.cancel.check()?;
        level.add(block.core());
        let mut start = block.core_start;
        while start + seg_len <= block.core_end {
            let Some(y) = block.samples.get(start - block.start..start - block.start + seg_len) else {
                break;
            };
            per_segment.push(segment_probabilities(model, y, sr, &name)?);
            spans.push((start as f64 / sr, (start + seg_len) as f64 / sr));
            start += seg_len;
        }
        if block.last {
            break;
        }
        block = match blocks.next_block().map_err(bad)? {
            Some(b) => b,
            None => break,
        };
    }
    let facts = block_facts(&blocks, level, &block);
    Ok(combine(&name, &model.labels, &per_segment, &spans, Probabilities::new(), options.segments)?
        .noted(&facts))
}

/// A trained network on a file read in blocks whose boundaries fall on STFT
/// hops: each block's spectrogram, from a left margin that covers an STFT
/// window and a right margin that covers a whole segment, gives the whole
/// picture's frames for the segments that start in its core. Not for MFCC
/// inputs (their dB floor refers to the whole track's maximum).
pub fn classify_network_blocks(
    network: &neural::Classifier,
    path: &Path,
    options: &ClassifyOptions,
    block_seconds: f64,
) -> Result<Verdict> {
    let m = network.manifest();
    let name = genreid_data::path_text(path);
    let input = &m.input;
    let rate = input.sample_rate;
    let (frames, hop) = (input.segment_frames(m.segment_seconds), input.hop_frames(m.segment_seconds));
    let window = input.n_fft as f64 / f64::from(rate);
    let margins = (1.0 + window, (frames * input.hop_length) as f64 / f64::from(rate) + 1.0 + window);
    let stream = MonoStream::open(path).map_err(bad)?;
    let mut blocks = Blocks::new(stream, rate, input.hop_length, block_seconds, margins, options.max_seconds)
        .map_err(bad)?;
    let Some(mut block) = blocks.next_block().map_err(bad)? else {
        return Err(ModelError::InvalidInput("no audio".into()));
    };
    if block.last {
        let signal = Signal::new(block.samples, rate);
        let facts = AudioFacts { warnings: blocks.warnings(), ..AudioFacts::of(&signal) };
        return Ok(classify_network(&signal, &name, network, options)?.noted(&facts));
    }
    let picture_error = |e: genreid_features::FeatureError| ModelError::InvalidInput(format!("{name}: {e}"));
    let (mut per_segment, mut starts, mut one) = (Vec::new(), Vec::new(), Vec::new());
    let mut level = Level::default();
    loop {
        options.cancel.check()?;
        level.add(block.core());
        let picture = input.compute(&block.samples).map_err(picture_error)?;
        let [bins, local_frames] = picture.shape();
        let mut time_major = vec![0.0f32; bins * local_frames];
        genreid_features::matrix::transpose(&picture.data, bins, local_frames, &mut time_major);
        let base = block.start / input.hop_length;
        // Frames of the whole picture, known once its end is in sight.
        let total = block.last.then(|| 1 + block.core_end / input.hop_length);
        let mut batch = Vec::new();
        loop {
            let start = starts.len() * hop;
            let fits = total.is_none_or(|t| start + frames <= t);
            match start.checked_sub(base) {
                Some(j)
                    if start * input.hop_length < block.core_end && fits && j + frames <= local_frames =>
                {
                    cut_segment(&time_major, bins, j, frames, input.normalized(), &mut one);
                    batch.extend_from_slice(&one);
                    starts.push(start);
                }
                _ => break,
            }
        }
        if !batch.is_empty() {
            per_segment.extend(network.predict(&batch, frames)?);
        }
        if block.last {
            break;
        }
        block = match blocks.next_block().map_err(bad)? {
            Some(b) => b,
            None => break,
        };
    }
    let facts = block_facts(&blocks, level, &block);
    let spans = frame_spans(&starts, frames, input, facts.duration_seconds);
    Ok(combine(&name, &m.labels, &per_segment, &spans, Probabilities::new(), options.segments)?.noted(&facts))
}
