//! Plots for genreid, drawn with plotters into PNG or SVG files (chosen by
//! the output file's extension). Text uses the embedded DejaVu Sans font, so
//! plots look the same on every machine and nothing is loaded at run time.

mod charts;
mod confusion;
mod heatmap;

pub use charts::{Series, box_plot, line_chart, roc_curves, scatter};
pub use confusion::confusion_matrix;
pub use heatmap::{Heatmap, heatmap};

use std::path::{Path, PathBuf};
use std::sync::Once;

/// Why a plot could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The extension is neither `.png` nor `.svg`.
    #[error("{0}: plots are written as .png or .svg")]
    UnsupportedFormat(PathBuf),
    /// The data has nothing to draw.
    #[error("nothing to plot: {0}")]
    Empty(String),
    /// The drawing backend failed (usually a file-system error).
    #[error("{path}: cannot draw plot: {reason}")]
    Draw {
        /// The output file.
        path: PathBuf,
        /// The backend's reason.
        reason: String,
    },
}

/// Image formats a plot can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Raster PNG.
    Png,
    /// Vector SVG.
    Svg,
}

impl Format {
    /// The format implied by `path`'s extension.
    pub fn of(path: &Path) -> Result<Self, PlotError> {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("png") => Ok(Self::Png),
            Some("svg") => Ok(Self::Svg),
            _ => Err(PlotError::UnsupportedFormat(path.to_path_buf())),
        }
    }
}

/// Something drawable on any plotters backend; [`render`] writes it.
pub(crate) trait Figure {
    /// Image size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the figure onto `root`.
    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        root: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String>;
}

/// Writes `figure` to `path` as PNG or SVG, chosen by the extension.
pub(crate) fn render(figure: &impl Figure, path: &Path) -> Result<(), PlotError> {
    use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};
    ensure_font();
    let draw_err = |e: String| PlotError::Draw { path: path.to_path_buf(), reason: e };
    match Format::of(path)? {
        Format::Png => {
            let root = BitMapBackend::new(path, figure.size()).into_drawing_area();
            figure.draw(&root).map_err(draw_err)?;
            root.present().map_err(|e| draw_err(e.to_string()))
        }
        Format::Svg => {
            let root = SVGBackend::new(path, figure.size()).into_drawing_area();
            figure.draw(&root).map_err(draw_err)?;
            root.present().map_err(|e| draw_err(e.to_string()))
        }
    }
}

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Registers the embedded font as plotters' `sans-serif` (once per process).
pub(crate) fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is valid TTF bundled at compile time; failure is impossible
        // in practice and would only leave text undrawn.
        let _ = plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, FONT);
    });
}
