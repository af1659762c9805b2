//! Times native-rate decoding (to mono, no resampling) of each file given,
//! one thread: the median of `--repeats` runs (default 5), in milliseconds
//! and as times real time. What `benches/decode_vs_ffmpeg.sh` compares
//! with ffmpeg's decode of the same files.
//!
//! `cargo run --release -p genreid-audio --example decode_speed -- FILE...`

use std::time::Instant;

use genreid_audio::{Source, decode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut repeats = 5;
    if let Some(i) = args.iter().position(|a| a == "--repeats") {
        repeats = args.get(i + 1).ok_or("--repeats needs a number")?.parse()?;
        args.drain(i..i + 2);
    }
    if args.is_empty() {
        return Err("usage: decode_speed [--repeats N] FILE...".into());
    }
    for file in &args {
        let mut times = Vec::new();
        let mut seconds = 0.0;
        for _ in 0..repeats.max(1) {
            let started = Instant::now();
            let decoded = decode(Source::File(file.as_ref()), f64::INFINITY)?;
            times.push(started.elapsed().as_secs_f64());
            seconds = decoded.signal.len() as f64 / f64::from(decoded.signal.sample_rate);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        #[allow(clippy::print_stdout)]
        {
            println!("{file}\t{:.2} ms\t{:.0}x real time", median * 1e3, seconds / median);
        }
    }
    Ok(())
}
