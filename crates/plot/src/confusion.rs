//! Confusion-matrix heat maps: rows are the true class, columns the
//! predicted one; each cell is coloured by its row-normalised share and
//! labelled with its count.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::colors::colormaps::ViridisRGB;

use crate::{Figure, PlotError, render};

/// Draws `counts[truth][predicted]` with class `labels` to `path` (PNG/SVG).
pub fn confusion_matrix(
    labels: &[String],
    counts: &[Vec<usize>],
    title: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let k = labels.len();
    if k == 0 || counts.len() != k || counts.iter().any(|r| r.len() != k) {
        return Err(PlotError::Empty(format!("{k} labels for a {} x ? matrix", counts.len())));
    }
    render(&Confusion { labels, counts, title }, path)
}

struct Confusion<'a> {
    labels: &'a [String],
    counts: &'a [Vec<usize>],
    title: &'a str,
}

impl Figure for Confusion<'_> {
    fn size(&self) -> (u32, u32) {
        (760, 700)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw(self.labels, self.counts, self.title, root)
    }
}

fn draw<DB: DrawingBackend>(
    labels: &[String],
    counts: &[Vec<usize>],
    title: &str,
    root: &DrawingArea<DB, Shift>,
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let k = labels.len();
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(90)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..k as f64, 0.0..k as f64)
        .map_err(e)?;
    let label_at = |v: &f64| {
        let i = v.floor() as usize;
        if (v - v.floor() - 0.5).abs() < 1e-9 && i < k { labels[i].clone() } else { String::new() }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(2 * k + 1)
        .y_labels(2 * k + 1)
        .x_label_formatter(&label_at)
        .y_label_formatter(&|v: &f64| label_at(&(k as f64 - v)))
        .x_desc("Predicted")
        .y_desc("True")
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(e)?;
    for (t, row) in counts.iter().enumerate() {
        let total: usize = row.iter().sum();
        for (p, &c) in row.iter().enumerate() {
            let share = if total > 0 { c as f32 / total as f32 } else { 0.0 };
            let y0 = (k - 1 - t) as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(p as f64, y0), (p as f64 + 1.0, y0 + 1.0)],
                    ViridisRGB.get_color(share).filled(),
                )))
                .map_err(e)?;
            let color = if share > 0.6 { BLACK } else { WHITE };
            chart
                .draw_series(std::iter::once(Text::new(
                    c.to_string(),
                    (p as f64 + 0.4, y0 + 0.6),
                    ("sans-serif", 14).into_font().color(&color),
                )))
                .map_err(e)?;
        }
    }
    Ok(())
}
