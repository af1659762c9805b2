//! bliss-audio (symphonia decoding) on each file named: the seconds its
//! `song_from_path` takes and the analysis it returns, as CSV on stdout.

use bliss_audio::decoder::symphonia::SymphoniaDecoder;
use bliss_audio::decoder::Decoder;
use std::time::Instant;

fn main() {
    println!("path,seconds,features");
    for path in std::env::args().skip(1) {
        let t = Instant::now();
        match SymphoniaDecoder::song_from_path(&path) {
            Ok(song) => {
                let s = t.elapsed().as_secs_f64();
                let f: Vec<String> = song.analysis.as_vec().iter().map(|v| v.to_string()).collect();
                println!("{path},{s},{}", f.join(" "));
            }
            Err(e) => eprintln!("{path}: {e}"),
        }
    }
}
