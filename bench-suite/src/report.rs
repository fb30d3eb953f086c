//! The Markdown report.
//!
//! Layout: a header naming the command and the mode, notes on anything
//! left out, the machine summary with the spread of the cross-core round
//! trips probed during the run (`latency.rs`), the one-table summary of hoare's ratio
//! to the fastest peer in every scenario (with its chart), a short guide
//! to the columns, then one section per group (its grouped chart first)
//! with one table per scenario and its two probes (the `sched` section
//! ends with the bytes of an idle task: the scheduler's overhead, and
//! blocked on a channel receive), the channels' heap footprint, and
//! last the targets with their verdicts. Every ratio in it
//! is computed from the run's own medians: a table's ratios are to the
//! fastest implementation in that table, a target's to its peer.

use std::fmt::Write as _;
use std::time::Duration;

use crate::latency::{self, Probe};
use crate::machine::Machine;
use crate::measure::{Budget, Config, Measurement};
use crate::memory::{self, Footprint, IdleFootprint, IdleWait};
use crate::plot;
use crate::summary;
use crate::targets::{self, Verdict};
use crate::workload::{self, Scenario};

/// Everything the report is written from.
#[derive(Debug)]
pub struct Run<'a> {
    /// The command line that produced the run, for reproduction.
    pub command: &'a str,
    /// How it was measured.
    pub config: &'a Config,
    /// Where it was measured.
    pub machine: &'a Machine,
    /// All measurements, grouped by scenario in report order.
    pub results: &'a [(&'static Scenario, Vec<Measurement>)],
    /// The channels' heap footprint, if it was measured.
    pub footprints: Option<&'a [Footprint]>,
    /// The bytes of an idle task per runtime, if they were measured.
    pub idle_tasks: Option<&'a [IdleFootprint]>,
    /// The cross-core round trip probed around each scenario measured in
    /// this process (`latency.rs`); empty on one core.
    pub probes: &'a [Probe],
    /// What the run could not do, one sentence each (a missing tool).
    pub notes: &'a [String],
    /// Wall time of the whole run.
    pub wall_time: Duration,
}

/// A time in nanoseconds with a unit that keeps 3–4 significant digits.
///
/// ```
/// use hoare_bench::report::format_ns;
/// assert_eq!(format_ns(7.25), "7.25 ns");
/// assert_eq!(format_ns(15_400.0), "15.4 µs");
/// ```
pub fn format_ns(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    three_digits(value, unit)
}

/// `value` with three significant digits (no decimals from 100 on),
/// then `unit`.
fn three_digits(value: f64, unit: &str) -> String {
    if value < 10.0 {
        format!("{value:.2} {unit}")
    } else if value < 100.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// Operations per second at `ns` an operation, with a metric prefix.
///
/// ```
/// use hoare_bench::report::format_rate;
/// assert_eq!(format_rate(13_200.0), "75.8 k/s");
/// assert_eq!(format_rate(2.5), "400 M/s");
/// ```
pub fn format_rate(ns: f64) -> String {
    let per_second = 1e9 / ns;
    let (value, unit) = if per_second >= 1e9 {
        (per_second / 1e9, "G/s")
    } else if per_second >= 1e6 {
        (per_second / 1e6, "M/s")
    } else if per_second >= 1e3 {
        (per_second / 1e3, "k/s")
    } else {
        (per_second, "/s")
    };
    three_digits(value, unit)
}

/// A range of times, naming the unit once when both ends share it.
///
/// ```
/// use hoare_bench::report::format_range;
/// assert_eq!(format_range(8.02, 8.55), "8.02–8.55 ns");
/// assert_eq!(format_range(950.0, 1_200.0), "950 ns–1.20 µs");
/// ```
pub fn format_range(lo: f64, hi: f64) -> String {
    let (lo, hi) = (format_ns(lo), format_ns(hi));
    match (lo.split_once(' '), hi.split_once(' ')) {
        (Some((lo_value, lo_unit)), Some((_, hi_unit))) if lo_unit == hi_unit => {
            format!("{lo_value}–{hi}")
        }
        _ => format!("{lo}–{hi}"),
    }
}

/// The fastest median among `measurements`.
pub fn fastest(measurements: &[Measurement]) -> f64 {
    measurements
        .iter()
        .map(|m| m.stats.median)
        .fold(f64::INFINITY, f64::min)
}

/// Renders the whole report.
pub fn render(run: &Run<'_>) -> String {
    let mut out = String::new();
    header(&mut out, run);
    for note in run.notes {
        let _ = writeln!(out, "> **Note:** {note}\n");
    }
    machine(&mut out, run.machine);
    cross_core(&mut out, run.probes);
    summary(&mut out, run);
    guide(&mut out);
    let mut group = "";
    for (scenario, measurements) in run.results {
        if scenario.group != group {
            end_group(&mut out, group, run);
            group = scenario.group;
            let _ = writeln!(out, "## Group `{group}`\n");
            if let Some(intro) = workload::group_intro(group) {
                let _ = writeln!(out, "{intro}\n");
            }
            let _ = writeln!(
                out,
                "All of the group's medians in one chart (log scale):\n\n\
                 ![Group `{group}`](plots/{})\n",
                plot::group_file_name(group)
            );
        }
        table(&mut out, scenario, measurements);
        if let Some(p) = run.probes.iter().find(|p| p.id == scenario.id()) {
            let _ = writeln!(
                out,
                "Cross-core round trip probed just before this table's samples: {}; just \
                 after: {}.\n",
                format_ns(p.before_ns),
                format_ns(p.after_ns)
            );
        }
    }
    end_group(&mut out, group, run);
    if let Some(f) = run.footprints {
        footprints(&mut out, f);
    }
    targets(&mut out, run);
    out
}

/// What follows the last table of `group`'s section.
fn end_group(out: &mut String, group: &str, run: &Run<'_>) {
    if let ("sched", Some(idle)) = (group, run.idle_tasks) {
        idle_tasks(out, idle);
    }
}

/// "12 samples per implementation, about 150 ms each".
fn describe(b: &Budget) -> String {
    let mut text = format!(
        "{} samples per implementation, about {} ms each",
        b.samples,
        b.sample_time.as_millis()
    );
    if b.max_ops < crate::measure::MAX_OPS {
        let _ = write!(text, " and at most {} operations", thousands(b.max_ops));
    }
    text
}

fn header(out: &mut String, run: &Run<'_>) {
    let c = run.config;
    let _ = writeln!(out, "# hoare benchmark report\n");
    let _ = writeln!(
        out,
        "Written by `{}` (mode **{}**: {}; group `chan`: {}; group `sched`: {}; samples \
         of one scenario interleaved; whole run {:.0} s). Regenerate it with \
         `cargo run --release -p hoare-bench -- --quick`, or without `--quick` for the \
         longer full run.\n",
        run.command,
        c.mode,
        describe(&c.base),
        describe(&c.chan),
        describe(&c.sched),
        run.wall_time.as_secs_f64(),
    );
}

fn machine(out: &mut String, m: &Machine) {
    let _ = writeln!(out, "## Machine\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| CPU | {} |", m.cpu_model);
    let _ = writeln!(out, "| cores | {} |", m.cores);
    let _ = writeln!(out, "| OS | {} |", m.os);
    let _ = writeln!(out, "| rustc | {} |", m.rustc);
    let go =
        m.go.as_deref()
            .unwrap_or("not installed (no Go baseline in this run)");
    let _ = writeln!(out, "| go | {go} |");
    let _ = writeln!(out, "| date | {} |\n", m.date);
    let _ = writeln!(
        out,
        "> Absolute numbers are from a {}-core machine ({}) and will differ elsewhere; \
         contended workloads use 2 threads, one per core. Compare the ratios, which are \
         taken within this one run.\n",
        m.cores, m.cpu_model,
    );
}

/// How far apart the cores were during the run (`latency.rs`): the spread
/// of the probes and the scenarios measured in a slow stretch.
fn cross_core(out: &mut String, probes: &[Probe]) {
    let Some((min, median, max)) = latency::spread(probes) else {
        return;
    };
    let _ = writeln!(
        out,
        "**Cross-core round trip** (two threads taking turns writing one cache line, \
         probed before and after each of the {} scenarios measured in this process): \
         {} at the fastest, {} median, {} at the slowest. On a virtual machine this is \
         up to the hypervisor and changes over minutes; every contended workload pays \
         it for each cache line it moves between cores, so a scenario measured in a slow \
         stretch is slower for every implementation, and most for the designs that move \
         the most lines per operation. Each table below gives its two probes.",
        probes.len(),
        format_ns(min),
        format_ns(median),
        format_ns(max),
    );
    let slow = latency::slow(probes, SLOW_STRETCH);
    if slow.is_empty() {
        let _ = writeln!(
            out,
            "No probe was above {SLOW_STRETCH:.0}× the median in this run.\n"
        );
    } else {
        let ids: Vec<String> = slow.iter().map(|p| format!("`{}`", p.id)).collect();
        let _ = writeln!(
            out,
            "Measured while a probe read over {SLOW_STRETCH:.0}× the median: {}.\n",
            ids.join(", ")
        );
    }
}

/// A probe this many times the median of the run's probes marks a slow
/// stretch.
const SLOW_STRETCH: f64 = 3.0;

/// The one-table summary: every scenario with a peer, hoare's ratio to
/// the fastest peer, and a mark where hoare is not the fastest.
fn summary(out: &mut String, run: &Run<'_>) {
    let standings = summary::standings(run.results);
    if standings.is_empty() {
        return;
    }
    let behind = standings.iter().filter(|s| !s.hoare_fastest()).count();
    let (rust_mean, with_rust) = summary::rust_geometric_mean(&standings);
    let rust_ahead = standings
        .iter()
        .filter(|s| s.rust_ratio().is_some_and(|r| r <= 1.0))
        .count();
    let _ = writeln!(out, "## Summary\n");
    let _ = writeln!(
        out,
        "hoare is the fastest in **{} of {}** workloads that have a peer; the geometric \
         mean of its ratio to the fastest peer is **{:.2}**. The fastest peer is the \
         fastest implementation other than hoare in that workload's table (Go included \
         where the Go baseline runs it); ✗ marks the {behind} workloads where a peer is \
         faster, and \"noise\" those where the two interquartile ranges overlap.\n",
        standings.len() - behind,
        standings.len(),
        summary::geometric_mean(&standings),
    );
    let _ = writeln!(
        out,
        "Against the Rust implementations alone (the last column, with Go left out: \
         its entries run goroutines on Go's scheduler where most Rust entries run OS \
         threads or tokio tasks, see the group intros), hoare is the fastest in \
         **{rust_ahead} of {with_rust}** workloads that have a Rust peer, with a \
         geometric mean of **{rust_mean:.2}**. Both columns are reported; neither \
         replaces the other.\n",
    );
    let _ = writeln!(
        out,
        "![hoare's ratio to the fastest peer](plots/{})\n",
        plot::SUMMARY_FILE
    );
    let _ = writeln!(
        out,
        "| workload | hoare | fastest peer | hoare / peer | | hoare / fastest Rust peer |\n\
         |---|---:|---|---:|---|---:|"
    );
    for s in &standings {
        let mark = match (s.hoare_fastest(), s.within_noise()) {
            (true, _) => "",
            (false, true) => "✗ (noise)",
            (false, false) => "✗",
        };
        let rust = match (s.rust_peer, s.rust_ratio()) {
            (Some(p), Some(r)) => format!("{r:.2} ({})", p.workload.implementation),
            _ => "–".to_string(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} {} | {:.2} | {mark} | {rust} |",
            s.scenario.id(),
            format_ns(s.hoare.stats.median),
            s.peer.workload.implementation,
            format_ns(s.peer.stats.median),
            s.ratio(),
        );
    }
    out.push('\n');
}

fn guide(out: &mut String) {
    let _ = writeln!(
        out,
        "## Reading the tables\n\n\
         * **median / op**: median over the samples of (sample time / operations in it).\n\
         * **ops / s**: 1 s / the median: operations a second (in `sched/echo_tcp`, \
         requests a second).\n\
         * **IQR** and **min–max**: the spread of the per-sample times (25th–75th \
         percentile, and the extremes).\n\
         * **vs fastest**: median / fastest median in the same table; the fastest is \
         1.00 and in bold. Below 1.00 cannot occur; 2.00 means twice as slow.\n\
         * Each table has a bar chart under `plots/` (bars: medians; whiskers: IQR).\n"
    );
}

fn table(out: &mut String, scenario: &Scenario, measurements: &[Measurement]) {
    let _ = writeln!(out, "### {} (`{}`)\n", scenario.title, scenario.id());
    let _ = writeln!(out, "{} One operation: {}.\n", scenario.about, scenario.op);
    let _ = writeln!(
        out,
        "| implementation | median / op | ops / s | IQR | min–max | vs fastest |\n\
         |---|---:|---:|---:|---:|---:|"
    );
    let best = fastest(measurements);
    for m in measurements {
        let s = &m.stats;
        let ratio = s.median / best;
        let (b, e) = if m.stats.median == best {
            ("**", "**")
        } else {
            ("", "")
        };
        let _ = writeln!(
            out,
            "| {b}{}{e} | {b}{}{e} | {} | {} | {} | {b}{:.2}{e} |",
            m.workload.implementation,
            format_ns(s.median),
            format_rate(s.median),
            format_range(s.p25, s.p75),
            format_range(s.min, s.max),
            ratio,
        );
    }
    let _ = writeln!(
        out,
        "\n![{}](plots/{})\n",
        scenario.title,
        plot::file_name(scenario)
    );
}

/// An integer with thousands separators.
///
/// ```
/// assert_eq!(hoare_bench::report::thousands(16_640), "16,640");
/// assert_eq!(hoare_bench::report::thousands(-5), "-5");
/// ```
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// A byte count for the footprint table.
fn format_bytes(bytes: Option<isize>) -> String {
    match bytes {
        Some(b) => format!("{} B", thousands(b as i64)),
        None => "–".to_owned(),
    }
}

fn footprints(out: &mut String, rows: &[Footprint]) {
    let _ = writeln!(out, "## Channel memory\n");
    let _ = writeln!(
        out,
        "Heap bytes, counted by the `hoare-bench` binary's global allocator on the \
         measuring thread: allocated minus freed while building an empty channel of each \
         flavor (`u64` messages), and, for unbounded channels, per message with {} messages \
         queued ((bytes after the sends − bytes before) / {}). tokio has no capacity-0 \
         channel.\n",
        thousands(memory::QUEUED),
        thousands(memory::QUEUED),
    );
    let _ = write!(out, "| implementation |");
    for flavor in memory::FLAVORS {
        let _ = write!(out, " empty {flavor} |");
    }
    let _ = writeln!(out, " per queued message |\n|---|---:|---:|---:|---:|---:|");
    for f in rows {
        let _ = write!(out, "| {} |", f.implementation);
        for bytes in f.empty {
            let _ = write!(out, " {} |", format_bytes(bytes));
        }
        let _ = writeln!(out, " {:.1} B |", f.per_message);
    }
    out.push('\n');
}

fn idle_tasks(out: &mut String, rows: &[IdleFootprint]) {
    let _ = writeln!(out, "### Bytes per idle task\n");
    let _ = writeln!(
        out,
        "Heap bytes, counted by the `hoare-bench` binary's global allocator on every thread \
         of the process: allocated minus freed from the first of {} spawns (from outside the \
         runtime, on a fresh 2-worker runtime per row) until every task has been polled once \
         and is pending, divided by {}. Two rows per runtime:\n\n\
         * **{}**: each task awaits a future that never completes and registers nothing \
         (its first poll only counts it as polled; it holds one `Arc` to that counter): the \
         task's allocation and the runtime's bookkeeping alone. The memory target applies \
         to this row, excluding the future. The tasks are then cancelled with \
         `JoinHandle::abort`.\n\
         * **{}**: each task waits on its own channel, built before counting starts: a \
         `hoare_chan::bounded::<()>(0)` receive on hoare-sched, a `tokio::sync::oneshot` \
         receive on tokio; what the wait registers in the channel (hoare-chan: a signal and \
         a waiter-list buffer) is counted too. Comparable to a Go goroutine blocked on a \
         channel receive; informational.\n\n\
         \"Excluding the future\" subtracts `size_of_val` of the future each task runs, as \
         spawned, which its allocation holds: what the runtime (and, in the channel row, \
         the wait) adds to it.\n\n\
         **go**: the Go program's goroutines (`bench-suite/go/`, `GOMAXPROCS=2`), counted \
         differently: the growth of `runtime.MemStats.Sys`, the memory the Go runtime holds \
         from the OS, per goroutine, which includes its stack (a goroutine has no separate \
         future: 0 B). In the first row each goroutine waits on its own unbuffered channel, \
         in the second all wait on one shared channel that is never sent on.\n",
        thousands(memory::IDLE_TASKS as u64),
        thousands(memory::IDLE_TASKS as u64),
        IdleWait::Nothing.describe(),
        IdleWait::ChannelReceive.describe(),
    );
    let _ = writeln!(
        out,
        "| implementation | idle task | per task | future | excluding the future |\n\
         |---|---|---:|---:|---:|"
    );
    for f in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} B | {} B | {:.1} B |",
            f.implementation,
            f.wait.describe(),
            f.bytes_per_task,
            f.future_size,
            f.excluding_future(),
        );
    }
    out.push('\n');
}

fn targets(out: &mut String, run: &Run<'_>) {
    let all: Vec<Measurement> = run
        .results
        .iter()
        .flat_map(|(_, m)| m.iter().cloned())
        .collect();
    let _ = writeln!(out, "## Targets\n");
    let _ = writeln!(
        out,
        "Ratio = hoare's median / the peer's median in the same scenario of this run \
         (\"the fastest peer\": the fastest implementation other than hoare in that table; \
         a geometric mean: of the per-scenario ratios over the listed scenarios); a target \
         is met when the ratio is at or below its limit. \"IQRs overlap\" marks a \
         comparison whose two interquartile ranges overlap: hoare and the peer are within \
         this run's noise of each other. Variants of hoare (`hoare-fifo`) are never the \
         peer. The memory targets, last, hold a number of bytes to an absolute limit.\n"
    );
    let _ = writeln!(
        out,
        "| target | scenario | peer | hoare / peer | limit | verdict | spread |\n\
         |---|---|---|---:|---:|---|---|"
    );
    for t in targets::all() {
        let (ratio, verdict) = match t.judge(&all) {
            Verdict::Met(r) => (format!("{r:.2}"), "MET"),
            Verdict::Missed(r) => (format!("{r:.2}"), "**MISSED**"),
            Verdict::NotMeasured => ("–".to_owned(), "not measured"),
        };
        let spread = match t.within_noise(&all) {
            Some(true) => "IQRs overlap",
            Some(false) => "separated",
            None => "–",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {ratio} | ≤ {:.1} | {verdict} | {spread} |",
            t.label,
            t.scope(),
            t.peer_name(&all).unwrap_or("–"),
            t.max_ratio,
        );
    }
    for t in targets::memory() {
        let (bytes, verdict) = match t.judge(run.idle_tasks) {
            Verdict::Met(b) => (format!("{b:.1} B"), "MET"),
            Verdict::Missed(b) => (format!("{b:.1} B"), "**MISSED**"),
            Verdict::NotMeasured => ("–".to_owned(), "not measured"),
        };
        let _ = writeln!(
            out,
            "| {} | {} | (absolute) | {bytes} | ≤ {:.0} B | {verdict} | – |",
            t.label,
            t.scope(),
            t.max_bytes,
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_keep_three_significant_digits() {
        assert_eq!(format_ns(0.5), "0.50 ns");
        assert_eq!(format_ns(123.4), "123 ns");
        assert_eq!(format_ns(1_234.0), "1.23 µs");
        assert_eq!(format_ns(2_500_000.0), "2.50 ms");
        assert_eq!(format_ns(3e9), "3.00 s");
    }
}
