//! Formats genreid knows by their first bytes but does not decode, so a
//! user learns "WMA is not supported" rather than a probe's "no suitable
//! format reader found".

/// Bytes a file must start with to be recognised here.
pub(crate) const SNIFF_LEN: usize = 16;

/// First bytes of the formats genreid names but does not decode, and their names.
const UNSUPPORTED: &[(&[u8], &str)] = &[
    (
        &[0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C],
        "WMA (Windows Media Audio in an ASF container)",
    ),
    (b"MAC ", "Monkey's Audio (APE)"),
    (b"wvpk", "WavPack"),
    (b"MPCK", "Musepack"),
    (b"MP+", "Musepack"),
    (b"DSD ", "DSD audio (DSF)"),
    (b"FRM8", "DSD audio (DSDIFF)"),
    (b"TTA1", "True Audio (TTA)"),
    (b"OFR ", "OptimFROG"),
    (b".RMF", "RealAudio"),
    (b".ra\xfd", "RealAudio"),
    (b"#!AMR", "AMR speech audio"),
    (b"MThd", "MIDI (notes, not recorded audio)"),
];

/// The name of a known but unsupported format, from a file's first bytes.
pub(crate) fn unsupported_format(head: &[u8]) -> Option<&'static str> {
    UNSUPPORTED.iter().find(|(magic, _)| head.starts_with(magic)).map(|(_, name)| *name)
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
