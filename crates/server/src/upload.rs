//! Receiving an upload, raw or multipart, whole, before it takes a worker:
//! a slow or stalled client costs a connection and a bounded buffer, never
//! a decoding worker. The bytes are held in memory up to
//! [`SPOOL_IN_MEMORY`] and spooled to an unnamed temporary file beyond, so
//! an upload in progress costs at most that much memory; a client that
//! falls below the minimum transfer rate ([`Pace`]) is cut off with 408.

use std::io::{Read, Seek, Write};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use futures_util::StreamExt;

/// Bytes of one upload held in memory; more go to a temporary file.
pub const SPOOL_IN_MEMORY: usize = 2 << 20;

/// Why an upload was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UploadError {
    #[error("upload larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("empty upload: send the audio as the request body or as a multipart file field")]
    Empty,
    #[error("malformed upload: {0}")]
    Malformed(String),
    #[error(
        "upload too slow: {seen} bytes in {seconds:.1} s (the service needs at least {min_rate} bytes/s after the first {grace_seconds} s)"
    )]
    TooSlow { seen: usize, seconds: f64, min_rate: u64, grace_seconds: u64 },
    #[error("cannot hold the upload: {0}")]
    Spool(String),
}

/// The slowest upload the service waits for: after `grace`, a client must
/// have sent at least `min_rate` bytes for every second since its request
/// began (0: no minimum).
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Bytes per second, averaged from the start of the request.
    pub min_rate: u64,
    /// Time allowed before the rate is checked.
    pub grace: Duration,
}

impl Pace {
    /// When an upload that has sent `seen` bytes since `started` becomes
    /// too slow, if no more arrive.
    fn due(&self, started: Instant, seen: usize) -> Option<Instant> {
        if self.min_rate == 0 {
            return None;
        }
        let earned = Duration::from_secs_f64((seen as f64 / self.min_rate as f64).min(1e9));
        Some(started + self.grace.max(earned))
    }
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

/// An upload's bytes: in memory, or in an unnamed temporary file (removed
/// by the system when closed).
pub(crate) enum Spool {
    Memory(Vec<u8>),
    File(std::fs::File),
}

impl Spool {
    /// A reader over the bytes, from the first.
    pub(crate) fn into_reader(self) -> std::io::Result<Box<dyn Read + Send + Sync>> {
        Ok(match self {
            Spool::Memory(bytes) => Box::new(std::io::Cursor::new(bytes)),
            Spool::File(mut file) => {
                file.rewind()?;
                Box::new(std::io::BufReader::with_capacity(1 << 16, file))
            }
        })
    }

    fn append(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        if let Spool::Memory(bytes) = self {
            if bytes.len() + chunk.len() <= SPOOL_IN_MEMORY {
                bytes.extend_from_slice(chunk);
                return Ok(());
            }
            let mut file = tempfile::tempfile()?;
            file.write_all(bytes)?;
            *self = Spool::File(file);
        }
        match self {
            Spool::File(file) => file.write_all(chunk),
            Spool::Memory(_) => unreachable!("spilled to a file above"),
        }
    }
}

/// An upload received whole.
pub(crate) struct Received {
    /// Its name (from the query, the form field, or "upload"), with an
    /// extension hint from its media type where it has none.
    pub name: String,
    /// Its bytes.
    pub body: Spool,
}

/// Counts what arrives, keeps it while under the limit, and checks the pace.
struct Sink {
    spool: Option<Spool>,
    limit: usize,
    seen: usize,
    started: Instant,
    pace: Pace,
}

impl Sink {
    /// Waits for `next` (the next chunk) no longer than the pace allows.
    async fn within_pace<T>(&self, next: impl Future<Output = T>) -> Result<T, UploadError> {
        let Some(due) = self.pace.due(self.started, self.seen) else {
            return Ok(next.await);
        };
        tokio::time::timeout_at(due.into(), next).await.map_err(|_| UploadError::TooSlow {
            seen: self.seen,
            seconds: self.started.elapsed().as_secs_f64(),
            min_rate: self.pace.min_rate,
            grace_seconds: self.pace.grace.as_secs(),
        })
    }

    /// Keeps one chunk; `Err` stops reading the upload.
    fn push(&mut self, chunk: &Bytes) -> Result<(), UploadError> {
        self.seen = self.seen.saturating_add(chunk.len());
        if self.seen > self.limit {
            self.spool = None;
            if self.seen > drain_limit(self.limit) {
                return Err(UploadError::TooLarge(self.limit));
            }
        } else if let Some(spool) = &mut self.spool {
            spool.append(chunk).map_err(|e| UploadError::Spool(e.to_string()))?;
        }
        Ok(())
    }

    fn finish(self, name: String) -> Result<Received, UploadError> {
        match (self.seen, self.spool) {
            (0, _) => Err(UploadError::Empty),
            (_, Some(body)) if self.seen <= self.limit => Ok(Received { name, body }),
            _ => Err(UploadError::TooLarge(self.limit)),
        }
    }
}

/// Reads the request's audio (the first file field of a multipart form, or
/// the whole body) to its end, at no less than `pace`, holding at most
/// `limit` bytes. The caller bounds the total time.
pub(crate) async fn receive_upload(
    request: Request,
    limit: usize,
    pace: Pace,
    name: Option<String>,
) -> Result<Received, UploadError> {
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let mut sink =
        Sink { spool: Some(Spool::Memory(Vec::new())), limit, seen: 0, started: Instant::now(), pace };
    if multipart {
        let mut form = sink
            .within_pace(Multipart::from_request(request, &()))
            .await?
            .map_err(|e| UploadError::Malformed(e.body_text()))?;
        let mut field = loop {
            match sink
                .within_pace(form.next_field())
                .await?
                .map_err(|e| UploadError::Malformed(e.body_text()))?
            {
                None => return Err(UploadError::Empty),
                Some(field) if field.file_name().is_some() || field.name() == Some("file") => break field,
                Some(_) => continue,
            }
        };
        let field_type = field.content_type().map(str::to_string);
        let named = clean_name(name.or_else(|| field.file_name().map(str::to_string)));
        while let Some(chunk) =
            sink.within_pace(field.chunk()).await?.map_err(|e| UploadError::Malformed(e.body_text()))?
        {
            sink.push(&chunk)?;
        }
        sink.finish(with_type_extension(named, field_type.as_deref()))
    } else {
        let body_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let named = with_type_extension(clean_name(name), body_type.as_deref());
        let mut stream = Body::into_data_stream(request.into_body());
        while let Some(chunk) = sink.within_pace(stream.next()).await? {
            sink.push(&chunk.map_err(|e| UploadError::Malformed(e.to_string()))?)?;
        }
        sink.finish(named)
    }
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
