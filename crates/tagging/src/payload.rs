//! The audio inside a file, apart from its tags: what must stay
//! bit-identical when tags change.
//!
//! Each format's container is walked by hand (a few dozen lines each), so the
//! check does not trust the library that wrote the tags.

use std::ops::Range;

use sha2::{Digest as _, Sha256};

use crate::store::Format;

/// SHA-256 over the audio of a file: MP3 frames between the leading ID3v2
/// tag(s) and trailing ID3v1/APE/Lyrics3 tags; FLAC STREAMINFO, SEEKTABLE
/// and CUESHEET blocks plus all frames; WAV `fmt ` and `data` chunks; every
/// Ogg packet but each stream's comment header (packet 1), with its length;
/// MP4 `mdat` atoms; AIFF `COMM` and `SSND` chunks.
pub fn audio_digest(format: Format, bytes: &[u8]) -> Result<[u8; 32], String> {
    let mut hash = Sha256::new();
    match format {
        Format::Mpeg => hash.update(&bytes[mpeg_audio(bytes)?]),
        Format::Flac => {
            for range in flac_audio(bytes)? {
                hash.update(&bytes[range]);
            }
        }
        Format::Wav => {
            for range in riff_audio(bytes)? {
                hash.update(&bytes[range]);
            }
        }
        Format::OggVorbis | Format::Opus => ogg_packets(bytes, |serial, index, packet| {
            if index != 1 {
                hash.update(serial.to_le_bytes());
                hash.update((packet.len() as u64).to_le_bytes());
                hash.update(packet);
            }
        })?,
        Format::Mp4 => {
            for range in mp4_audio(bytes)? {
                hash.update(&bytes[range]);
            }
        }
        Format::Aiff => {
            for range in aiff_audio(bytes)? {
                hash.update(&bytes[range]);
            }
        }
    }
    Ok(hash.finalize().into())
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Length of an ID3v2 tag starting at `at` (header, body, footer), if one does.
fn id3v2_len(b: &[u8], at: usize) -> Option<usize> {
    let h = b.get(at..at + 10)?;
    if &h[..3] != b"ID3" || h[6..10].iter().any(|&x| x & 0x80 != 0) {
        return None;
    }
    let size = h[6..10].iter().fold(0usize, |acc, &x| (acc << 7) | usize::from(x));
    let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

fn mpeg_audio(b: &[u8]) -> Result<Range<usize>, String> {
    let mut start = 0;
    while let Some(len) = id3v2_len(b, start) {
        start += len;
    }
    let mut end = b.len();
    loop {
        if end >= start + 128 && &b[end - 128..end - 125] == b"TAG" {
            end -= 128;
            if end >= start + 227 && &b[end - 227..end - 223] == b"TAG+" {
                end -= 227;
            }
        } else if end >= start + 32 && &b[end - 32..end - 24] == b"APETAGEX" {
            let size = le32(b, end - 20).unwrap_or(0) as usize;
            let flags = le32(b, end - 12).unwrap_or(0);
            let header = if flags & 0x8000_0000 != 0 { 32 } else { 0 };
            let total = size + header;
            if total > end - start {
                return Err("APE tag larger than the file".into());
            }
            end -= total;
        } else if end >= start + 15 && &b[end - 9..end] == b"LYRICS200" {
            let size: usize = std::str::from_utf8(&b[end - 15..end - 9])
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or("bad Lyrics3 size")?;
            if size + 15 > end - start {
                return Err("Lyrics3 tag larger than the file".into());
            }
            end -= size + 15;
        } else {
            break;
        }
    }
    if start > end {
        return Err("ID3v2 tag larger than the file".into());
    }
    Ok(start..end)
}

fn flac_audio(b: &[u8]) -> Result<Vec<Range<usize>>, String> {
    let mut at = 0;
    while let Some(len) = id3v2_len(b, at) {
        at += len;
    }
    if b.get(at..at + 4) != Some(b"fLaC") {
        return Err("no fLaC marker".into());
    }
    at += 4;
    let mut ranges = Vec::new();
    loop {
        let header = b.get(at..at + 4).ok_or("metadata runs past the end")?;
        let last = header[0] & 0x80 != 0;
        let kind = header[0] & 0x7f;
        let len = (usize::from(header[1]) << 16) | (usize::from(header[2]) << 8) | usize::from(header[3]);
        let end = at + 4 + len;
        if end > b.len() {
            return Err("metadata block runs past the end".into());
        }
        // STREAMINFO, SEEKTABLE, CUESHEET describe the audio; the rest are tags or padding.
        if matches!(kind, 0 | 3 | 5) {
            ranges.push(at + 4..end);
        }
        at = end;
        if last {
            break;
        }
    }
    ranges.push(at..b.len());
    Ok(ranges)
}

fn riff_audio(b: &[u8]) -> Result<Vec<Range<usize>>, String> {
    if b.get(..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WAVE") {
        return Err("not a RIFF WAVE file".into());
    }
    let mut at = 12;
    let mut ranges = Vec::new();
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let len = le32(b, at + 4).ok_or("truncated chunk")? as usize;
        let end = (at + 8 + len).min(b.len());
        if id == b"fmt " || id == b"data" || id == b"fact" {
            ranges.push(at + 8..end);
        }
        at = at + 8 + len + (len & 1);
    }
    if ranges.len() < 2 {
        return Err("no fmt and data chunks".into());
    }
    Ok(ranges)
}

/// AIFF and AIFF-C: the `COMM` (format) and `SSND` (samples) chunks.
fn aiff_audio(b: &[u8]) -> Result<Vec<Range<usize>>, String> {
    if b.get(..4) != Some(b"FORM") || !matches!(b.get(8..12), Some(b"AIFF" | b"AIFC")) {
        return Err("not an AIFF file".into());
    }
    let mut at = 12;
    let mut ranges = Vec::new();
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let len = be32(b, at + 4).ok_or("truncated chunk")? as usize;
        let end = (at + 8).saturating_add(len).min(b.len());
        if id == b"COMM" || id == b"SSND" {
            ranges.push(at + 8..end);
        }
        at = (at + 8).saturating_add(len).saturating_add(len & 1);
    }
    if ranges.len() < 2 {
        return Err("no COMM and SSND chunks".into());
    }
    Ok(ranges)
}

/// Calls `f(serial, packet_index, packet)` for every complete packet of
/// every logical stream.
fn ogg_packets(b: &[u8], mut f: impl FnMut(u32, usize, &[u8])) -> Result<(), String> {
    let mut streams: Vec<(u32, usize, Vec<u8>)> = Vec::new();
    let mut at = 0;
    while at < b.len() {
        if b.get(at..at + 4) != Some(b"OggS") {
            return Err(format!("no Ogg page at byte {at}"));
        }
        let header = b.get(at..at + 27).ok_or("truncated Ogg page")?;
        let serial = le32(header, 14).ok_or("truncated Ogg page")?;
        let segments = usize::from(header[26]);
        let lacing = b.get(at + 27..at + 27 + segments).ok_or("truncated Ogg lacing")?;
        let mut body = at + 27 + segments;
        let stream = match streams.iter().position(|s| s.0 == serial) {
            Some(i) => i,
            None => {
                streams.push((serial, 0, Vec::new()));
                streams.len() - 1
            }
        };
        for &lace in lacing {
            let end = body + usize::from(lace);
            let data = b.get(body..end).ok_or("Ogg page runs past the end")?;
            let (serial, index, packet) = &mut streams[stream];
            packet.extend_from_slice(data);
            if lace < 255 {
                f(*serial, *index, packet);
                *index += 1;
                packet.clear();
            }
            body = end;
        }
        at = body;
    }
    // A packet still open at the end of the file is hashed as it is.
    for (serial, index, packet) in &streams {
        if !packet.is_empty() {
            f(*serial, *index, packet);
        }
    }
    Ok(())
}

fn mp4_audio(b: &[u8]) -> Result<Vec<Range<usize>>, String> {
    let mut at = 0;
    let mut ranges = Vec::new();
    while at + 8 <= b.len() {
        let size32 = be32(b, at).ok_or("truncated atom")?;
        let (header, size) = match size32 {
            0 => (8, b.len() - at),
            1 => {
                let s = b.get(at + 8..at + 16).ok_or("truncated atom")?;
                (16, u64::from_be_bytes(s.try_into().map_err(|_| "truncated atom")?) as usize)
            }
            n => (8, n as usize),
        };
        if size < header || size > b.len() - at {
            return Err(format!("atom at byte {at} runs past the end"));
        }
        if &b[at + 4..at + 8] == b"mdat" {
            ranges.push(at + header..at + size);
        }
        at += size;
    }
    if ranges.is_empty() {
        return Err("no mdat atom".into());
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id3v2_and_id3v1_are_stripped_from_mp3() {
        let mut b = b"ID3\x04\x00\x00\x00\x00\x00\x05hello".to_vec();
        b.extend_from_slice(b"\xff\xfbAUDIO");
        let mut v1 = vec![0u8; 128];
        v1[..3].copy_from_slice(b"TAG");
        b.extend_from_slice(&v1);
        assert_eq!(&b[mpeg_audio(&b).unwrap()], b"\xff\xfbAUDIO");
    }

    #[test]
    fn ogg_packets_span_pages() {
        // One stream: packet 0 of 300 bytes laced over two pages, then packet 1.
        let page = |lacing: &[u8], body: &[u8]| {
            let mut p = b"OggS".to_vec();
            p.extend_from_slice(&[0; 10]);
            p.extend_from_slice(&7u32.to_le_bytes());
            p.extend_from_slice(&[0; 8]);
            p.push(lacing.len() as u8);
            p.extend_from_slice(lacing);
            p.extend_from_slice(body);
            p
        };
        let mut b = page(&[255], &[1; 255]);
        b.extend(page(&[45, 3], &[[1; 45].as_slice(), &[2; 3]].concat()));
        let mut seen = Vec::new();
        ogg_packets(&b, |s, i, p| seen.push((s, i, p.len()))).unwrap();
        assert_eq!(seen, vec![(7, 0, 300), (7, 1, 3)]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for format in [Format::Mpeg, Format::Flac, Format::Wav, Format::OggVorbis, Format::Mp4, Format::Aiff]
        {
            for bytes in
                [&b""[..], b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f", b"RIFF\xff\xff\xff\xffWAVEfmt ", b"OggS"]
            {
                let _ = audio_digest(format, bytes);
            }
        }
        assert!(audio_digest(Format::Flac, b"fLaC\x80\x00\x00\x40").is_err());
    }
}
