//! SVG bar charts, one per scenario.
//!
//! Each chart has one bar per implementation: the bar is the median time
//! per operation, the whisker spans the interquartile range, and the label
//! above it gives the median and its ratio to the fastest. hoare's bars are
//! drawn in blue, the peers' in grey, so the eye finds hoare first. Only
//! plotters' SVG backend is used: no font or bitmap dependencies.

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::measure::Measurement;
use crate::report::{fastest, format_ns};
use crate::workload::Scenario;

/// Chart size in pixels.
const SIZE: (u32, u32) = (760, 420);
/// hoare's bars.
const HOARE: RGBColor = RGBColor(0x1f, 0x63, 0xc6);
/// Every peer's bars.
const PEER: RGBColor = RGBColor(0x9a, 0x9a, 0x9a);

/// The chart's file name for `scenario`: `group_name.svg`.
pub fn file_name(scenario: &Scenario) -> String {
    format!("{}_{}.svg", scenario.group, scenario.name)
}

/// A unit for an axis whose largest value is `max_ns`: (divisor, name).
fn axis_unit(max_ns: f64) -> (f64, &'static str) {
    if max_ns < 1e3 {
        (1.0, "ns")
    } else if max_ns < 1e6 {
        (1e3, "µs")
    } else if max_ns < 1e9 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    }
}

/// Draws the chart for one scenario into `dir`, returning its path.
pub fn bar_chart(
    dir: &Path,
    scenario: &Scenario,
    measurements: &[Measurement],
) -> Result<PathBuf, Box<dyn Error>> {
    let path = dir.join(file_name(scenario));
    let best = fastest(measurements);
    let top = measurements
        .iter()
        .map(|m| m.stats.p75.max(m.stats.median))
        .fold(0.0, f64::max);
    let (divisor, unit) = axis_unit(top);
    // Enough decimals to tell the axis labels apart.
    let decimals = match top / divisor {
        t if t >= 20.0 => 0,
        t if t >= 2.0 => 1,
        _ => 2,
    };
    let names: Vec<&str> = measurements
        .iter()
        .map(|m| m.workload.implementation)
        .collect();

    let root = SVGBackend::new(&path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(scenario.title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(52)
        .y_label_area_size(64)
        // Headroom above the tallest whisker for the value labels.
        // A segmented `0..n` axis has n + 1 segments; `0..n - 1` has one
        // per implementation.
        .build_cartesian_2d(
            (0..measurements.len().saturating_sub(1)).into_segmented(),
            0.0..(top / divisor * 1.2).max(f64::MIN_POSITIVE),
        )?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(measurements.len())
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i).copied().unwrap_or("").to_owned(),
            _ => String::new(),
        })
        .y_desc(format!("median time per op ({unit})"))
        .x_desc(format!("one op: {}", scenario.op))
        .y_label_formatter(&|v| format!("{v:.prec$}", prec = decimals))
        .draw()?;

    chart.draw_series(measurements.iter().enumerate().map(|(i, m)| {
        let color = if m.workload.is_hoare() { HOARE } else { PEER };
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), m.stats.median / divisor),
            ],
            color.filled(),
        );
        bar.set_margin(0, 0, 18, 18);
        bar
    }))?;
    chart.draw_series(measurements.iter().enumerate().map(|(i, m)| {
        ErrorBar::new_vertical(
            SegmentValue::CenterOf(i),
            m.stats.p25 / divisor,
            m.stats.median / divisor,
            m.stats.p75 / divisor,
            BLACK.stroke_width(1),
            12,
        )
    }))?;
    let label =
        TextStyle::from(("sans-serif", 14).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(measurements.iter().enumerate().map(|(i, m)| {
        Text::new(
            format!(
                "{}  ({:.2}×)",
                format_ns(m.stats.median),
                m.stats.median / best
            ),
            (
                SegmentValue::CenterOf(i),
                m.stats.p75.max(m.stats.median) / divisor * 1.02,
            ),
            label.clone(),
        )
    }))?;
    root.present()?;
    drop(chart);
    drop(root);
    Ok(path)
}
