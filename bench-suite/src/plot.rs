//! SVG bar charts: one per scenario, one grouped chart per workload group
//! ([`group_chart`]) and the summary of hoare's ratio to the fastest peer
//! ([`summary_chart`]).
//!
//! A scenario's chart has one bar per implementation: the bar is the median time
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
use crate::summary::Standing;
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

/// The colour of `implementation`'s bars in the group charts: hoare's
/// blue, a fixed colour per peer, and a lighter blue for hoare's variants.
fn implementation_color(implementation: &str) -> RGBColor {
    match implementation {
        "hoare" => HOARE,
        i if i.starts_with("hoare") => RGBColor(0x8c, 0xb4, 0xea),
        "std" => RGBColor(0xd6, 0x5f, 0x00),
        "crossbeam" => RGBColor(0x2c, 0xa0, 0x2c),
        "flume" => RGBColor(0x94, 0x67, 0xbd),
        "kanal" => RGBColor(0x8c, 0x56, 0x4b),
        "tokio" => RGBColor(0xd6, 0x27, 0x28),
        "parking_lot" => RGBColor(0xbc, 0xbd, 0x22),
        "go" => RGBColor(0x17, 0xbe, 0xcf),
        _ => PEER,
    }
}

/// Pixels per bar in the group charts, and between two scenarios' rows.
const BAR_PX: u32 = 9;
const ROW_GAP_PX: u32 = 10;
/// Width of the horizontal charts and of their label column.
const WIDE: u32 = 1_000;
const LABEL_PX: u32 = 300;

/// The group chart's file name: `group_<group>.svg`.
pub fn group_file_name(group: &str) -> String {
    format!("group_{group}.svg")
}

/// Draws one grouped bar chart for all of `group`'s scenarios in
/// `results`: one row per scenario, one bar per implementation (median
/// time per operation, log scale, a fixed colour per implementation), so
/// that a whole group can be read at a glance. Returns its path, or `None`
/// if the group has no results.
pub fn group_chart(
    dir: &Path,
    group: &str,
    results: &[(&'static Scenario, Vec<Measurement>)],
) -> Result<Option<PathBuf>, Box<dyn Error>> {
    let rows: Vec<&(&'static Scenario, Vec<Measurement>)> = results
        .iter()
        .filter(|(s, m)| s.group == group && !m.is_empty())
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    // Implementations in first-seen order, for the colours and the legend.
    let mut implementations: Vec<&'static str> = Vec::new();
    for (_, measured) in &rows {
        for m in measured {
            if !implementations.contains(&m.workload.implementation) {
                implementations.push(m.workload.implementation);
            }
        }
    }
    let medians = rows
        .iter()
        .flat_map(|(_, m)| m.iter().map(|m| m.stats.median));
    let (lo, hi) = medians.fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let widest = rows.iter().map(|(_, m)| m.len()).max().unwrap_or(1) as u32;
    let row_px = widest * BAR_PX + ROW_GAP_PX;
    let height = rows.len() as u32 * row_px + 140;
    let path = dir.join(group_file_name(group));
    let root = SVGBackend::new(&path, (WIDE, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = rows.len();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Group `{group}`: median time per operation (log scale)"),
            ("sans-serif", 20),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(LABEL_PX)
        .build_cartesian_2d(
            ((lo * 0.8).max(0.01)..hi * 1.25).log_scale(),
            (0..n.saturating_sub(1)).into_segmented(),
        )?;
    // Row `i` from the top is segment `n - 1 - i`.
    let names: Vec<&str> = rows.iter().map(|(s, _)| s.name).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names
                .get(n - 1 - i)
                .map(|s| (*s).to_owned())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_formatter(&|v| format_ns(*v))
        .x_desc("median time per operation")
        .draw()?;
    for &implementation in &implementations {
        let color = implementation_color(implementation);
        let bars = rows.iter().enumerate().filter_map(|(i, (_, measured))| {
            let slot = measured
                .iter()
                .position(|m| m.workload.implementation == implementation)?;
            let m = &measured[slot];
            let segment = n - 1 - i;
            let mut bar = Rectangle::new(
                [
                    (lo * 0.8, SegmentValue::Exact(segment)),
                    (m.stats.median, SegmentValue::Exact(segment + 1)),
                ],
                color.filled(),
            );
            // Bars stack downwards from the top of the row, one slot each.
            let top = ROW_GAP_PX / 2 + slot as u32 * BAR_PX;
            let bottom = row_px - top - BAR_PX + 1;
            bar.set_margin(top, bottom, 0, 0);
            Some(bar)
        });
        chart
            .draw_series(bars)?
            .label(implementation)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    drop(chart);
    drop(root);
    Ok(Some(path))
}

/// The summary chart's file name.
pub const SUMMARY_FILE: &str = "summary.svg";

/// Draws the summary chart: one horizontal bar per scenario from 1.0 to
/// hoare's ratio to the fastest peer (log scale), blue where hoare is the
/// fastest and orange where it is not, labelled with the ratio and the
/// peer. Returns its path, or `None` without standings.
pub fn summary_chart(
    dir: &Path,
    standings: &[Standing<'_>],
) -> Result<Option<PathBuf>, Box<dyn Error>> {
    if standings.is_empty() {
        return Ok(None);
    }
    const BEHIND: RGBColor = RGBColor(0xe6, 0x7e, 0x22);
    let n = standings.len();
    let row_px = 18;
    let height = n as u32 * row_px + 140;
    let (lo, hi) = standings
        .iter()
        .map(Standing::ratio)
        .fold((1.0f64, 1.0f64), |(lo, hi), r| (lo.min(r), hi.max(r)));
    // Room right of the longest bar for its label.
    let (lo, hi) = (lo / 1.3, hi * 2.2);
    let path = dir.join(SUMMARY_FILE);
    let root = SVGBackend::new(&path, (WIDE, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "hoare's median / the fastest peer's (log scale; left of 1 = hoare fastest)",
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(LABEL_PX)
        .build_cartesian_2d(
            (lo..hi).log_scale(),
            (0..n.saturating_sub(1)).into_segmented(),
        )?;
    let ids: Vec<String> = standings.iter().map(|s| s.scenario.id()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => ids.get(n - 1 - i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_formatter(&|v| format!("{v:.2}"))
        .x_desc("ratio to the fastest peer")
        .draw()?;
    chart.draw_series(standings.iter().enumerate().map(|(i, s)| {
        let color = if s.hoare_fastest() { HOARE } else { BEHIND };
        let segment = n - 1 - i;
        let mut bar = Rectangle::new(
            [
                (1.0, SegmentValue::Exact(segment)),
                (s.ratio(), SegmentValue::Exact(segment + 1)),
            ],
            color.filled(),
        );
        bar.set_margin(3, 3, 0, 0);
        bar
    }))?;
    chart.draw_series(LineSeries::new(
        [(1.0, SegmentValue::Exact(0)), (1.0, SegmentValue::Exact(n))],
        BLACK.stroke_width(1),
    ))?;
    let label =
        TextStyle::from(("sans-serif", 11).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    chart.draw_series(standings.iter().enumerate().map(|(i, s)| {
        Text::new(
            format!("{:.2}× {}", s.ratio(), s.peer.workload.implementation),
            (s.ratio().max(1.0) * 1.03, SegmentValue::CenterOf(n - 1 - i)),
            label.clone(),
        )
    }))?;
    root.present()?;
    drop(chart);
    drop(root);
    Ok(Some(path))
}
