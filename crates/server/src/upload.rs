//! Receiving an upload, raw or multipart, and passing it on to the decoder
//! chunk by chunk as it arrives: the encoded bytes are never held whole.

use std::io::Read;
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// Chunks in flight between the connection and the decoder.
const CHANNEL_CHUNKS: usize = 8;

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    #[error("upload larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("empty upload: send the audio as the request body or as a multipart file field")]
    Empty,
    #[error("malformed upload: {0}")]
    Malformed(String),
}

/// Past the limit an upload is still read, and discarded, up to twice the
/// limit plus 1 MiB, so that an ordinary client that sends its whole body
/// before reading the answer receives the 413 instead of a broken
/// connection; a larger upload is cut off.
fn drain_limit(limit: usize) -> usize {
    limit.saturating_mul(2).saturating_add(1 << 20)
}

/// Refuses at once an upload whose declared length is far over the limit.
pub(crate) fn check_declared(headers: &HeaderMap, limit: usize) -> Result<(), UploadError> {
    let declared =
        headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > drain_limit(limit)) {
        return Err(UploadError::TooLarge(limit));
    }
    Ok(())
}

/// Reads a refused upload to its end and throws it away (up to the same
/// bound as an oversized one), so that a client that sends its whole body
/// before reading the answer receives the refusal instead of a broken
/// pipe. Gives up quietly at the bound or on a broken body; the caller
/// bounds the time.
pub(crate) async fn discard_upload(request: Request, limit: usize) {
    if check_declared(request.headers(), limit).is_err() {
        return;
    }
    let mut seen = 0usize;
    let mut stream = Body::into_data_stream(request.into_body());
    while let Some(Ok(chunk)) = stream.next().await {
        seen = seen.saturating_add(chunk.len());
        if seen > drain_limit(limit) {
            return;
        }
    }
}

/// The decoder's side of the channel: a blocking reader over the chunks.
pub(crate) struct ChunkReader {
    chunks: Mutex<mpsc::Receiver<std::io::Result<Bytes>>>,
    current: Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            let next = self.chunks.get_mut().unwrap_or_else(|p| p.into_inner()).blocking_recv();
            match next {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// Counts what arrives and forwards it while under the limit.
struct Forward {
    to_decoder: Option<mpsc::Sender<std::io::Result<Bytes>>>,
    limit: usize,
    seen: usize,
}

impl Forward {
    /// Passes one chunk on; `Err` stops reading the upload.
    async fn push(&mut self, chunk: Bytes) -> Result<(), UploadError> {
        self.seen = self.seen.saturating_add(chunk.len());
        if self.seen > self.limit {
            if let Some(tx) = self.to_decoder.take() {
                let refused = std::io::Error::other(UploadError::TooLarge(self.limit).to_string());
                let _ = tx.send(Err(refused)).await;
            }
            if self.seen > drain_limit(self.limit) {
                return Err(UploadError::TooLarge(self.limit));
            }
        } else if let Some(tx) = &self.to_decoder
            && tx.send(Ok(chunk)).await.is_err()
        {
            // The decoder stopped early (enough audio, or a decoding error):
            // the rest of the upload is not needed.
            self.to_decoder = None;
        }
        Ok(())
    }

    fn finish(self) -> Result<(), UploadError> {
        match self.seen {
            0 => Err(UploadError::Empty),
            n if n > self.limit => Err(UploadError::TooLarge(self.limit)),
            _ => Ok(()),
        }
    }
}

/// Reads the request's audio (the first file field of a multipart form, or
/// the whole body) and streams it to a decoder that `start` launches once
/// the upload's name is known (`start` gets the name and a reader, and
/// returns a handle to the decoding job). Never holds more than a few
/// chunks of the upload.
pub(crate) async fn stream_upload<J>(
    request: Request,
    limit: usize,
    name: Option<String>,
    start: impl FnOnce(String, ChunkReader) -> J,
) -> Result<J, UploadError> {
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
    let reader = ChunkReader { chunks: Mutex::new(rx), current: Bytes::new() };
    let mut forward = Forward { to_decoder: Some(tx), limit, seen: 0 };
    let job;
    if multipart {
        let mut form =
            Multipart::from_request(request, &()).await.map_err(|e| UploadError::Malformed(e.body_text()))?;
        let mut field = loop {
            match form.next_field().await.map_err(|e| UploadError::Malformed(e.body_text()))? {
                None => return Err(UploadError::Empty),
                Some(field) if field.file_name().is_some() || field.name() == Some("file") => break field,
                Some(_) => continue,
            }
        };
        let field_type = field.content_type().map(str::to_string);
        let named = clean_name(name.or_else(|| field.file_name().map(str::to_string)));
        job = start(with_type_extension(named, field_type.as_deref()), reader);
        while let Some(chunk) = field.chunk().await.map_err(|e| UploadError::Malformed(e.body_text()))? {
            forward.push(chunk).await?;
        }
    } else {
        let body_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        job = start(with_type_extension(clean_name(name), body_type.as_deref()), reader);
        let mut stream = Body::into_data_stream(request.into_body());
        while let Some(chunk) = stream.next().await {
            forward.push(chunk.map_err(|e| UploadError::Malformed(e.to_string()))?).await?;
        }
    }
    forward.finish()?;
    Ok(job)
}

/// An upload named without an extension gets the one its media type
/// implies (`audio/mp4` → `.m4a`), as a hint for the decoder, which
/// recognises every format by its bytes in any case.
fn with_type_extension(name: String, content_type: Option<&str>) -> String {
    if std::path::Path::new(&name).extension().is_some() {
        return name;
    }
    let media_type = content_type.and_then(|t| t.split(';').next()).map(|t| t.trim().to_ascii_lowercase());
    let extension = match media_type.as_deref() {
        Some("audio/mp4" | "audio/m4a" | "audio/x-m4a" | "video/mp4") => "m4a",
        Some("audio/aac" | "audio/aacp") => "aac",
        Some("audio/ogg" | "application/ogg") => "ogg",
        Some("audio/opus") => "opus",
        Some("audio/webm" | "video/webm") => "webm",
        Some("audio/x-matroska" | "video/x-matroska") => "mka",
        Some("audio/aiff" | "audio/x-aiff") => "aiff",
        Some("audio/x-caf") => "caf",
        Some("audio/flac" | "audio/x-flac") => "flac",
        Some("audio/mpeg" | "audio/mp3") => "mp3",
        Some("audio/wav" | "audio/wave" | "audio/x-wav" | "audio/vnd.wave") => "wav",
        Some("audio/basic" | "audio/au") => "au",
        _ => return name,
    };
    format!("{name}.{extension}")
}

/// A name is shown in errors and on the dashboard: short and plain.
fn clean_name(name: Option<String>) -> String {
    let name = name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "upload".into());
    name.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_give_extension_hints_to_names_without_one() {
        assert_eq!(with_type_extension("upload".into(), Some("audio/mp4")), "upload.m4a");
        assert_eq!(with_type_extension("voice".into(), Some("audio/ogg; codecs=opus")), "voice.ogg");
        assert_eq!(with_type_extension("song.flac".into(), Some("audio/mpeg")), "song.flac");
        assert_eq!(with_type_extension("upload".into(), Some("application/octet-stream")), "upload");
        assert_eq!(with_type_extension("upload".into(), None), "upload");
    }
}
