//! Times each feature workload on audio files and prints JSON lines
//! (`{"workload": .., "seconds": ..}`, the median of several runs per file,
//! summed over files). Used by `benches/librosa_side_by_side.sh`.
//!
//! `cargo run --release -p genreid-features --example time_features -- REPEATS FILE...`

#![allow(clippy::print_stdout)] // printing the timings is what this example is for

use std::time::Instant;

use genreid_features::timing::{WORKLOADS, run};

/// The allocator the `genreid` binary uses, so timings match what users get.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (repeats, files) = args.split_first().ok_or("usage: time_features REPEATS FILE...")?;
    let repeats: usize = repeats.parse()?;
    let signals = files
        .iter()
        .map(|f| genreid_audio::load(f.as_ref(), &Default::default()).map(|s| s.samples))
        .collect::<Result<Vec<_>, _>>()?;
    for name in WORKLOADS.iter().chain(&["gtzan57"]) {
        let mut total = 0.0;
        for y in &signals {
            let mut times: Vec<f64> = (0..repeats)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(run(name, y, 22_050.0).expect("workload runs"));
                    t.elapsed().as_secs_f64()
                })
                .collect();
            times.sort_by(f64::total_cmp);
            total += times[times.len() / 2];
        }
        println!("{{\"workload\": \"{name}\", \"seconds\": {total}}}");
    }
    Ok(())
}
