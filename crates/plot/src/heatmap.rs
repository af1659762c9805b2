//! Spectrogram-style heat maps: a `[rows, cols]` matrix drawn with time on
//! the x axis, the feature index on the y axis (low at the bottom, as
//! `librosa.display.specshow` does) and a colour bar.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use crate::{Figure, PlotError, render};

/// What to draw and how to label it.
#[derive(Debug, Clone)]
pub struct Heatmap<'a> {
    /// Row-major values, `rows * cols` of them.
    pub data: &'a [f32],
    /// Rows (features, drawn bottom to top).
    pub rows: usize,
    /// Columns (frames, drawn left to right).
    pub cols: usize,
    /// Seconds per column, for the time axis.
    pub seconds_per_col: f64,
    /// Plot title.
    pub title: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Label of the colour bar (units).
    pub value_label: String,
}

/// Most cells drawn per axis; larger matrices are averaged down to this.
const MAX_CELLS: (usize, usize) = (900, 256);

/// Writes `map` to `path` as PNG or SVG (by extension).
pub fn heatmap(map: &Heatmap<'_>, path: &Path) -> Result<(), PlotError> {
    if map.rows == 0 || map.cols == 0 || map.data.len() != map.rows * map.cols {
        return Err(PlotError::Empty(format!("{} x {} matrix", map.rows, map.cols)));
    }
    render(map, path)
}

impl Figure for Heatmap<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw(self, root)
    }
}

/// Averages the matrix down to at most `MAX_CELLS`, returning (cells, rows, cols).
fn downsample(map: &Heatmap<'_>) -> (Vec<f32>, usize, usize) {
    let r_out = map.rows.min(MAX_CELLS.1);
    let c_out = map.cols.min(MAX_CELLS.0);
    let mut out = vec![0f32; r_out * c_out];
    for (ro, row_out) in out.chunks_mut(c_out).enumerate() {
        let (r0, r1) = (ro * map.rows / r_out, ((ro + 1) * map.rows / r_out).max(ro * map.rows / r_out + 1));
        for (co, cell) in row_out.iter_mut().enumerate() {
            let (c0, c1) =
                (co * map.cols / c_out, ((co + 1) * map.cols / c_out).max(co * map.cols / c_out + 1));
            let mut sum = 0f64;
            for r in r0..r1 {
                for c in c0..c1 {
                    sum += f64::from(map.data[r * map.cols + c]);
                }
            }
            *cell = (sum / ((r1 - r0) * (c1 - c0)) as f64) as f32;
        }
    }
    (out, r_out, c_out)
}

fn draw<DB: DrawingBackend>(map: &Heatmap<'_>, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let (cells, rows, cols) = downsample(map);
    let finite = cells.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo < hi { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
    let (main, bar) = root.split_horizontally(980);
    let duration = map.seconds_per_col * map.cols as f64;
    let mut chart = ChartBuilder::on(&main)
        .caption(&map.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..duration, 0.0..map.rows as f64)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("Time (s)")
        .y_desc(&map.y_label)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    let (dx, dy) = (duration / cols as f64, map.rows as f64 / rows as f64);
    chart
        .draw_series(cells.iter().enumerate().map(|(i, &v)| {
            let (r, c) = (i / cols, i % cols);
            let t = if v.is_finite() { (v - lo) / (hi - lo) } else { 0.0 };
            let color = ViridisRGB.get_color(t);
            Rectangle::new(
                [(c as f64 * dx, r as f64 * dy), ((c + 1) as f64 * dx, (r + 1) as f64 * dy)],
                color.filled(),
            )
        }))
        .map_err(e)?;
    // Colour bar.
    let mut cb = ChartBuilder::on(&bar)
        .margin_top(48)
        .margin_bottom(52)
        .margin_right(50)
        .y_label_area_size(0)
        .right_y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, f64::from(lo)..f64::from(hi))
        .map_err(e)?;
    cb.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(&map.value_label)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(e)?;
    let steps = 100;
    let step = f64::from(hi - lo) / steps as f64;
    cb.draw_series((0..steps).map(|i| {
        let v0 = f64::from(lo) + i as f64 * step;
        Rectangle::new([(0.0, v0), (1.0, v0 + step)], ViridisRGB.get_color(i as f32 / steps as f32).filled())
    }))
    .map_err(e)?;
    Ok(())
}
