//! Evaluation charts: ROC curves, scatter plots of projected features,
//! box plots by class and line charts (accuracy against dimension).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{Figure, PlotError, render};

/// One named series of `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// Points in drawing order.
    pub points: Vec<(f64, f64)>,
}

fn colour(i: usize) -> RGBColor {
    // Tableau 10, then repeated: distinguishable and colour-blind friendly.
    const T10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = T10[i % T10.len()];
    RGBColor(r, g, b)
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    (lo - pad, hi + pad)
}

/// How an x-y chart draws its series.
#[derive(Clone, Copy, PartialEq, Eq)]
enum XyKind {
    /// ROC curves: the unit square, lines, the chance diagonal.
    Roc,
    /// Lines with a marker at each point.
    Lines,
    /// Markers only.
    Scatter,
}

/// Series on x-y axes, one colour each, with a legend.
struct Xy<'a> {
    series: &'a [Series],
    title: &'a str,
    axes: (&'a str, &'a str),
    kind: XyKind,
}

impl Figure for Xy<'_> {
    fn size(&self) -> (u32, u32) {
        (780, 630)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
        root.fill(&WHITE).map_err(e)?;
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        let (x_range, y_range) = if self.kind == XyKind::Roc {
            ((0.0, 1.0), (0.0, 1.0))
        } else {
            (bounds(points().map(|p| p.0)), bounds(points().map(|p| p.1)))
        };
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, ("sans-serif", 18))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc(self.axes.0)
            .y_desc(self.axes.1)
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(e)?;
        if self.kind == XyKind::Roc {
            chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3))).map_err(e)?;
        }
        for (i, s) in self.series.iter().enumerate() {
            let c = colour(i);
            if self.kind == XyKind::Scatter {
                chart
                    .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, c.mix(0.75).filled())))
                    .map_err(e)?
                    .label(s.name.clone())
                    .legend(move |(x, y)| Circle::new((x + 8, y), 4, c.filled()));
                continue;
            }
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), c.stroke_width(2)))
                .map_err(e)?
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)));
            if self.kind == XyKind::Lines {
                chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, c.filled()))).map_err(e)?;
            }
        }
        let position = match self.kind {
            XyKind::Roc => SeriesLabelPosition::LowerRight,
            XyKind::Lines => SeriesLabelPosition::UpperLeft,
            XyKind::Scatter => SeriesLabelPosition::UpperRight,
        };
        chart
            .configure_series_labels()
            .position(position)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(e)
    }
}

fn xy(
    series: &[Series],
    title: &str,
    axes: (&str, &str),
    kind: XyKind,
    path: &Path,
) -> Result<(), PlotError> {
    if series.iter().all(|s| s.points.is_empty()) {
        return Err(PlotError::Empty("no points".into()));
    }
    render(&Xy { series, title, axes, kind }, path)
}

/// One-vs-rest ROC curves (false-positive rate against true-positive rate),
/// one per class, with the chance diagonal.
pub fn roc_curves(curves: &[Series], title: &str, path: &Path) -> Result<(), PlotError> {
    xy(curves, title, ("False-positive rate", "True-positive rate"), XyKind::Roc, path)
}

/// A line chart of several series (e.g. accuracy against dimension).
pub fn line_chart(series: &[Series], title: &str, axes: (&str, &str), path: &Path) -> Result<(), PlotError> {
    xy(series, title, axes, XyKind::Lines, path)
}

/// Points coloured by group (one series per class).
pub fn scatter(groups: &[Series], title: &str, axes: (&str, &str), path: &Path) -> Result<(), PlotError> {
    xy(groups, title, axes, XyKind::Scatter, path)
}

/// Quartiles and Tukey whiskers of one group's values.
fn five_numbers(values: &[f64]) -> Option<[f64; 5]> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    // Linear interpolation between order statistics (numpy's default).
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (i, f) = (h.floor() as usize, h - h.floor());
        v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
    };
    let (q1, med, q3) = (q(0.25), q(0.5), q(0.75));
    let iqr = q3 - q1;
    let lo = v.iter().copied().find(|&x| x >= q1 - 1.5 * iqr).unwrap_or(q1);
    let hi = v.iter().rev().copied().find(|&x| x <= q3 + 1.5 * iqr).unwrap_or(q3);
    Some([lo, q1, med, q3, hi])
}

struct Boxes<'a> {
    groups: &'a [(String, Vec<f64>)],
    title: &'a str,
    y_desc: &'a str,
}

impl Figure for Boxes<'_> {
    fn size(&self) -> (u32, u32) {
        (820, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
        root.fill(&WHITE).map_err(e)?;
        let k = self.groups.len();
        let (y0, y1) = bounds(self.groups.iter().flat_map(|g| g.1.iter().copied()).filter(|v| v.is_finite()));
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, ("sans-serif", 18))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..k as f64, y0..y1)
            .map_err(e)?;
        let names: Vec<&str> = self.groups.iter().map(|g| g.0.as_str()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(2 * k + 1)
            .x_label_formatter(&|v: &f64| {
                let i = v.floor() as usize;
                if (v - v.floor() - 0.5).abs() < 1e-9 && i < k { names[i].to_string() } else { String::new() }
            })
            .y_desc(self.y_desc)
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(e)?;
        for (i, (_, values)) in self.groups.iter().enumerate() {
            let Some([lo, q1, med, q3, hi]) = five_numbers(values) else { continue };
            let c = colour(i);
            let (l, m, r) = (i as f64 + 0.2, i as f64 + 0.5, i as f64 + 0.8);
            chart.draw_series([Rectangle::new([(l, q1), (r, q3)], c.mix(0.35).filled())]).map_err(e)?;
            chart.draw_series([Rectangle::new([(l, q1), (r, q3)], c.stroke_width(1))]).map_err(e)?;
            chart.draw_series([PathElement::new([(l, med), (r, med)], BLACK.stroke_width(2))]).map_err(e)?;
            for (from, to) in [(lo, q1), (q3, hi)] {
                chart.draw_series([PathElement::new([(m, from), (m, to)], c.stroke_width(1))]).map_err(e)?;
            }
            for w in [lo, hi] {
                chart
                    .draw_series([PathElement::new([(m - 0.1, w), (m + 0.1, w)], c.stroke_width(1))])
                    .map_err(e)?;
            }
            let outliers = values.iter().copied().filter(|&v| v < lo || v > hi);
            chart.draw_series(outliers.map(|v| Circle::new((m, v), 2, c.stroke_width(1)))).map_err(e)?;
        }
        Ok(())
    }
}

/// Box plot (quartiles, median, Tukey whiskers, outliers) of one value per
/// row, grouped by class.
pub fn box_plot(
    groups: &[(String, Vec<f64>)],
    title: &str,
    y_desc: &str,
    path: &Path,
) -> Result<(), PlotError> {
    if groups.iter().all(|g| g.1.is_empty()) {
        return Err(PlotError::Empty("no values".into()));
    }
    render(&Boxes { groups, title, y_desc }, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_numbers_match_numpy_percentiles_and_tukey_whiskers() {
        let v = [1.0, 2.0, 3.0, 4.0, 100.0];
        let [lo, q1, med, q3, hi] = five_numbers(&v).unwrap();
        assert_eq!((q1, med, q3), (2.0, 3.0, 4.0));
        assert_eq!((lo, hi), (1.0, 4.0), "100 lies beyond q3 + 1.5 IQR");
    }

    #[test]
    fn charts_are_written_as_png_and_svg() {
        let dir = std::env::temp_dir().join(format!("genreid-charts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = vec![Series { name: "a".into(), points: vec![(0.0, 0.0), (0.2, 0.7), (1.0, 1.0)] }];
        for ext in ["png", "svg"] {
            roc_curves(&s, "ROC", &dir.join(format!("roc.{ext}"))).unwrap();
            scatter(&s, "PCA", ("1", "2"), &dir.join(format!("s.{ext}"))).unwrap();
            box_plot(&[("rock".into(), vec![1.0, 2.0, 3.0])], "tempo", "BPM", &dir.join(format!("b.{ext}")))
                .unwrap();
            line_chart(&s, "sweep", ("dims", "acc"), &dir.join(format!("l.{ext}"))).unwrap();
            assert!(std::fs::metadata(dir.join(format!("roc.{ext}"))).unwrap().len() > 1000);
        }
        assert!(scatter(&[], "x", ("1", "2"), &dir.join("e.png")).is_err());
    }
}
