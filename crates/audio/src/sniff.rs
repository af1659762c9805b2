//! Formats genreid knows by their first bytes but does not decode, so a
//! user learns "WMA is not supported" rather than a probe's "no suitable
//! format reader found".

/// Bytes a file must start with to be recognised here.
pub(crate) const SNIFF_LEN: usize = 16;

/// The name of a known but unsupported format, from a file's first bytes.
pub(crate) fn unsupported_format(head: &[u8]) -> Option<&'static str> {
    const ASF: [u8; 16] =
        [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C];
    let starts = |magic: &[u8]| head.starts_with(magic);
    Some(if starts(&ASF) {
        "WMA (Windows Media Audio in an ASF container)"
    } else if starts(b"MAC ") {
        "Monkey's Audio (APE)"
    } else if starts(b"wvpk") {
        "WavPack"
    } else if starts(b"MPCK") || starts(b"MP+") {
        "Musepack"
    } else if starts(b"DSD ") {
        "DSD audio (DSF)"
    } else if starts(b"FRM8") {
        "DSD audio (DSDIFF)"
    } else if starts(b"TTA1") {
        "True Audio (TTA)"
    } else if starts(b"OFR ") {
        "OptimFROG"
    } else if starts(b".RMF") || starts(b".ra\xfd") {
        "RealAudio"
    } else if starts(b"#!AMR") {
        "AMR speech audio"
    } else if starts(b"MThd") {
        "MIDI (notes, not recorded audio)"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_foreign_formats_are_named() {
        let asf = [
            0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C, 1,
        ];
        assert_eq!(unsupported_format(&asf), Some("WMA (Windows Media Audio in an ASF container)"));
        assert_eq!(unsupported_format(b"wvpk\0\0"), Some("WavPack"));
        assert_eq!(unsupported_format(b"MThd\0\0\0\x06"), Some("MIDI (notes, not recorded audio)"));
        for supported in [&b"RIFF\0\0\0\0WAVE"[..], b"fLaC", b"OggS", b"ID3\x04", b"\0\0\0\x20ftypM4A "] {
            assert_eq!(unsupported_format(supported), None);
        }
    }
}
