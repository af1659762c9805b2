//! Decodes a file with `genreid_audio::load` at 22,050 Hz and writes the
//! samples as raw little-endian `f32` (for inspection with NumPy:
//! `np.fromfile(path, "<f4")`).
//!
//! `cargo run -p genreid-audio --example load_raw -- input.flac out.f32`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, output] = &args[..] else {
        return Err("usage: load_raw INPUT OUTPUT".into());
    };
    let signal = genreid_audio::load(input.as_ref(), &genreid_audio::LoadOptions::default())?;
    let bytes: Vec<u8> = signal.samples.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(output, bytes)?;
    Ok(())
}
