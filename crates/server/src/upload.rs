//! Reading an upload, raw or multipart, never holding more than the limit.

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use futures_util::StreamExt;

/// An uploaded file.
pub(crate) struct Upload {
    /// The client's file name (multipart), `?name=`, or "upload".
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

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

/// Collects an upload up to `limit` bytes. Past the limit it keeps reading
/// and discarding, up to twice the limit plus 1 MiB, so that an ordinary
/// client that sends its whole body before reading the answer receives the
/// 413 instead of a broken connection; a larger upload is cut off.
struct Sink {
    bytes: Vec<u8>,
    limit: usize,
    seen: usize,
}

impl Sink {
    fn drain_limit(limit: usize) -> usize {
        limit.saturating_mul(2).saturating_add(1 << 20)
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        self.seen = self.seen.saturating_add(chunk.len());
        if self.seen > self.limit {
            self.bytes = Vec::new();
            if self.seen > Self::drain_limit(self.limit) {
                return Err(UploadError::TooLarge(self.limit));
            }
        } else {
            self.bytes.extend_from_slice(chunk);
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, UploadError> {
        if self.seen > self.limit { Err(UploadError::TooLarge(self.limit)) } else { Ok(self.bytes) }
    }
}

/// Reads the request's audio: the first file field of a multipart form, or
/// the whole body. A declared or actual size over `limit` stops reading.
pub(crate) async fn read_upload(
    request: Request,
    limit: usize,
    name: Option<String>,
) -> Result<Upload, UploadError> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > Sink::drain_limit(limit)) {
        return Err(UploadError::TooLarge(limit));
    }
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let mut sink = Sink { bytes: Vec::with_capacity(declared.unwrap_or(0).min(limit)), limit, seen: 0 };
    let mut name = name;
    if multipart {
        let mut form =
            Multipart::from_request(request, &()).await.map_err(|e| UploadError::Malformed(e.body_text()))?;
        loop {
            let field = form.next_field().await.map_err(|e| UploadError::Malformed(e.body_text()))?;
            let Some(mut field) = field else { break };
            if field.file_name().is_none() && field.name() != Some("file") {
                continue;
            }
            if name.is_none() {
                name = field.file_name().map(str::to_string);
            }
            while let Some(chunk) = field.chunk().await.map_err(|e| UploadError::Malformed(e.body_text()))? {
                sink.push(&chunk)?;
            }
            break;
        }
    } else {
        let mut stream = Body::into_data_stream(request.into_body());
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| UploadError::Malformed(e.to_string()))?;
            sink.push(&chunk)?;
        }
    }
    let bytes = sink.finish()?;
    if bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    let name = name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "upload".into());
    // A name is shown in errors and on the dashboard: keep it short and plain.
    let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    Ok(Upload { name, bytes })
}
