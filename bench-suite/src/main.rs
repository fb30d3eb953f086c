//! `hoare-bench`: runs the comparison suite and writes the report.
//!
//! ```text
//! cargo run --release -p hoare-bench -- --quick     # < 2 min, writes bench-suite/REPORT.md
//! cargo run --release -p hoare-bench                # full run, ~11 min on 2 cores
//! cargo run --release -p hoare-bench -- --smoke     # seconds; report to a temp dir
//! cargo run --release -p hoare-bench -- --quick --only sched --json new.json --compare old.json
//! ```
//!
//! Steps: parse the options, detect the machine, measure the pinned
//! scenarios in a child process confined to one core (see
//! `hoare_bench::pinned`), measure every other scenario in this process
//! (progress bar on stderr; plain lines instead when stderr is not a
//! terminal) with the cross-core round trip probed before and after each
//! (`hoare_bench::latency`), measure the channels' and idle tasks' heap footprint with
//! the counting allocator installed below, then write `REPORT.md` and `plots/*.svg`
//! under the output directory and print the targets' verdicts.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use hoare_bench::chan_workloads::is_pinned;
use hoare_bench::latency;
use hoare_bench::machine::Machine;
use hoare_bench::measure::{self, Config, Measurement};
use hoare_bench::memory::{self, CountingAlloc};
use hoare_bench::report::{self, Run};
use hoare_bench::summary;
use hoare_bench::targets::{self, Verdict};
use hoare_bench::workload::{Scenario, Workload};
use hoare_bench::{go, pinned, plot, results, workload};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Counts the heap bytes of the channels and idle tasks in the report's
/// memory tables; costs the workloads one thread-local read and one
/// relaxed load per allocation.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const USAGE: &str = "\
hoare-bench: compare hoare with std, parking_lot, crossbeam, flume, kanal and tokio
(group sched: hoare-sched against tokio's multi-thread runtime and Go; the Go
entries run when `go` is on PATH)

USAGE: cargo run --release -p hoare-bench -- [OPTIONS]

OPTIONS:
    --quick           short run (under 2 minutes on 2 cores)
    --smoke           tiny run that only proves every workload works;
                      writes to <temp dir>/hoare-bench-smoke unless --out is given
    --out <DIR>       write REPORT.md and plots/ to DIR
                      (default: the bench-suite crate directory)
    --filter <TEXT>   only scenarios whose group/name contains TEXT
    --only <GROUP>    only one group: sync, chan or sched
    --json <FILE>     also write every entry's figures to FILE as JSON
    --compare <OLD>   compare with OLD (a file written by --json): list the
                      entries whose median got slower by more than the
                      threshold, and exit with status 3 if there are any
    --threshold <PCT> the --compare threshold in percent (default 10)
    --list            list the workloads and exit
    -h, --help        print this help

The chan/pinned_* scenarios run in a child process pinned to core 0 by
`taskset -c 0` (internal flag --pinned-child); without taskset they are
skipped and the report says so.
";

/// The parsed command line.
struct Options {
    config: Config,
    out: PathBuf,
    filter: Option<String>,
    only: Option<String>,
    json: Option<PathBuf>,
    compare: Option<PathBuf>,
    threshold: f64,
    list: bool,
    /// This process is the pinned child: measure only the pinned
    /// scenarios and report on stdout.
    pinned_child: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut config = Config::full();
    let mut out = None;
    let mut filter = None;
    let mut only = None;
    let mut json = None;
    let mut compare = None;
    let mut threshold = results::DEFAULT_THRESHOLD;
    let mut list = false;
    let mut pinned_child = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => config = Config::quick(),
            "--smoke" => config = Config::smoke(),
            "--full" => config = Config::full(),
            "--list" => list = true,
            pinned::CHILD_FLAG => pinned_child = true,
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a directory")?)),
            "--filter" => filter = Some(it.next().ok_or("--filter needs a text")?.clone()),
            "--only" => {
                let group = it.next().ok_or("--only needs a group")?;
                if !["sync", "chan", "sched"].contains(&group.as_str()) {
                    return Err(format!("--only takes sync, chan or sched, not `{group}`"));
                }
                only = Some(group.clone());
            }
            "--json" => json = Some(PathBuf::from(it.next().ok_or("--json needs a file")?)),
            "--compare" => {
                compare = Some(PathBuf::from(it.next().ok_or("--compare needs a file")?));
            }
            "--threshold" => {
                let pct = it.next().ok_or("--threshold needs a percentage")?;
                threshold = pct
                    .parse::<f64>()
                    .ok()
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .ok_or(format!("--threshold takes a percentage >= 0, not `{pct}`"))?
                    / 100.0;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    let out = out.unwrap_or_else(|| {
        if config.mode == "smoke" {
            std::env::temp_dir().join("hoare-bench-smoke")
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        }
    });
    Ok(Options {
        config,
        out,
        filter,
        only,
        json,
        compare,
        threshold,
        list,
        pinned_child,
    })
}

fn progress_bar(steps: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:32.cyan/blue} {pos}/{len} (eta {eta}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let workloads: Vec<_> = workload::all()
        .into_iter()
        .filter(|w| {
            options
                .filter
                .as_ref()
                .is_none_or(|f| w.scenario.id().contains(f.as_str()))
                && options
                    .only
                    .as_ref()
                    .is_none_or(|g| w.scenario.group == g.as_str())
        })
        .collect();
    if options.list {
        for w in &workloads {
            println!("{} {}", w.scenario.id(), w.implementation);
        }
        return ExitCode::SUCCESS;
    }
    if options.pinned_child {
        // The parent left the Go entries out if Go cannot run; so does
        // the child.
        let go = workloads.iter().any(go::is_go) && go::available().is_ok();
        let pinned: Vec<_> = workloads
            .into_iter()
            .filter(|w| is_pinned(w.scenario) && (go || !go::is_go(w)))
            .collect();
        return match pinned::serve(&pinned, &options.config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    if workloads.is_empty() {
        eprintln!("error: no workload matches the filter");
        return ExitCode::from(2);
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; pass --release for meaningful numbers");
    }
    match run(&options, &args, &workloads) {
        Ok(0) => ExitCode::SUCCESS,
        // `--compare` found entries that got slower.
        Ok(_) => ExitCode::from(3),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The flags that make the pinned child measure what this run measures.
fn child_args(options: &Options) -> Vec<String> {
    let mut args = vec![format!("--{}", options.config.mode)];
    if let Some(f) = &options.filter {
        args.extend(["--filter".to_owned(), f.clone()]);
    }
    if let Some(g) = &options.only {
        args.extend(["--only".to_owned(), g.clone()]);
    }
    args
}

/// Prints a scenario's medians and ratios, for logs without a terminal.
fn print_line(scenario: &Scenario, measured: &[Measurement]) {
    let best = report::fastest(measured);
    let line: Vec<String> = measured
        .iter()
        .map(|m| {
            format!(
                "{} {} ({:.2}x)",
                m.workload.implementation,
                report::format_ns(m.stats.median),
                m.stats.median / best
            )
        })
        .collect();
    eprintln!("{}: {}", scenario.id(), line.join(", "));
}

fn run(
    options: &Options,
    args: &[String],
    workloads: &[Workload],
) -> Result<usize, Box<dyn std::error::Error>> {
    let config = &options.config;
    // Read the old run first: a bad file should fail before the long run.
    let old = match &options.compare {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--compare: read {}: {e}", path.display()))?;
            let doc: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("--compare: {} is not JSON: {e}", path.display()))?;
            Some(
                results::medians(&doc)
                    .map_err(|e| format!("--compare: {}: {e}", path.display()))?,
            )
        }
        None => None,
    };
    let machine = Machine::detect();
    let started = Instant::now();
    let plain = !std::io::stderr().is_terminal();
    eprintln!(
        "hoare-bench: {} mode, {} workloads, on {} ({} cores)",
        config.mode,
        workloads.len(),
        machine.cpu_model,
        machine.cores
    );

    let mut notes = Vec::new();
    // Without Go, its entries are left out and the report says why.
    let go_entries = workloads.iter().filter(|w| go::is_go(w)).count();
    let without_go: Vec<Workload>;
    // (Only asked when there are Go entries: the first ask builds Go.)
    let go_missing = (go_entries > 0).then(go::available).and_then(Result::err);
    let workloads = match go_missing {
        Some(why) => {
            notes.push(format!(
                "The {go_entries} Go entries were not measured: {why}."
            ));
            without_go = workloads
                .iter()
                .filter(|w| !go::is_go(w))
                .copied()
                .collect();
            &without_go[..]
        }
        _ => workloads,
    };
    let (pinned, local): (Vec<Workload>, Vec<Workload>) =
        workloads.iter().partition(|w| is_pinned(w.scenario));
    let pinned = if pinned.is_empty() || pinned::taskset_available() {
        pinned
    } else {
        notes.push(format!(
            "The {} single-core (`chan/pinned_*`) entries were not measured: `taskset` \
             (util-linux) is not installed on this machine.",
            pinned.len()
        ));
        Vec::new()
    };
    let bar = progress_bar(config.steps(&pinned) + config.steps(&local));
    let mut pinned_results = Vec::new();
    if !pinned.is_empty() {
        bar.set_message("chan/pinned_* (child process on core 0)");
        pinned_results = pinned::measure_in_child(&pinned, &child_args(options), || bar.inc(1))?;
    }
    let mut results = Vec::new();
    let mut probes = Vec::new();
    // One probe between two scenarios serves as the first one's "after"
    // and the next one's "before".
    let mut last_probe = latency::round_trip();
    for (scenario, entries) in workload::by_scenario(workloads) {
        let measured = if is_pinned(scenario) {
            match pinned_results
                .iter()
                .position(|(s, _)| std::ptr::eq(*s, scenario))
            {
                Some(i) => pinned_results.swap_remove(i).1,
                None => continue,
            }
        } else {
            bar.set_message(scenario.id());
            let before = last_probe;
            let measured =
                measure::measure_scenario(&entries, config.budget(scenario), |_| bar.inc(1));
            last_probe = latency::round_trip();
            if let (Some(before_ns), Some(after_ns)) = (before, last_probe) {
                probes.push(latency::Probe {
                    id: scenario.id(),
                    before_ns,
                    after_ns,
                });
            }
            measured
        };
        if plain {
            print_line(scenario, &measured);
        }
        results.push((scenario, measured));
    }
    bar.finish_and_clear();

    // Footprints only when channels are part of the run; measured last so
    // that no workload thread is alive (they would not be counted anyway:
    // counting is per thread).
    let footprints = if workloads.iter().any(|w| w.scenario.group == "chan") {
        memory::footprints()
    } else {
        None
    };
    // Idle tasks likewise, when the scheduler is part of the run; counted
    // on every thread, so nothing else may run meanwhile.
    let idle_tasks = if workloads.iter().any(|w| w.scenario.group == "sched") {
        memory::idle_tasks()
    } else {
        None
    };

    let plots = options.out.join("plots");
    std::fs::create_dir_all(&plots)?;
    for (scenario, measured) in &results {
        plot::bar_chart(&plots, scenario, measured)?;
    }
    let mut charts = results.len();
    let mut groups: Vec<&str> = results.iter().map(|(s, _)| s.group).collect();
    groups.dedup();
    for group in groups {
        charts += usize::from(plot::group_chart(&plots, group, &results)?.is_some());
    }
    charts += usize::from(plot::summary_chart(&plots, &summary::standings(&results))?.is_some());
    let command = if args.is_empty() {
        "cargo run --release -p hoare-bench".to_owned()
    } else {
        format!("cargo run --release -p hoare-bench -- {}", args.join(" "))
    };
    let text = report::render(&Run {
        command: &command,
        config,
        machine: &machine,
        results: &results,
        footprints: footprints.as_deref(),
        idle_tasks: idle_tasks.as_deref(),
        probes: &probes,
        notes: &notes,
        wall_time: started.elapsed(),
    });
    let report_path = options.out.join("REPORT.md");
    std::fs::write(&report_path, text)?;

    for note in &notes {
        println!("note: {note}");
    }
    let all: Vec<_> = results
        .iter()
        .flat_map(|(_, m)| m.iter().cloned())
        .collect();
    let mut unmeasured = 0;
    for t in targets::all() {
        let label = &t.label;
        match t.judge(&all) {
            Verdict::Met(r) => println!("MET     {label:<50} {r:.2} (≤ {:.1})", t.max_ratio),
            Verdict::Missed(r) => println!("MISSED  {label:<50} {r:.2} (≤ {:.1})", t.max_ratio),
            Verdict::NotMeasured => unmeasured += 1,
        }
    }
    for t in targets::memory() {
        let label = t.label;
        match t.judge(idle_tasks.as_deref()) {
            Verdict::Met(b) => println!("MET     {label:<50} {b:.1} B (≤ {:.0} B)", t.max_bytes),
            Verdict::Missed(b) => {
                println!("MISSED  {label:<50} {b:.1} B (≤ {:.0} B)", t.max_bytes)
            }
            Verdict::NotMeasured => unmeasured += 1,
        }
    }
    if unmeasured > 0 {
        println!("-       {unmeasured} targets not measured in this run");
    }
    let doc = results::to_json(config.mode, &machine, &results, &probes);
    if let Some(path) = &options.json {
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .map_err(|e| format!("--json: write {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let mut regressions = 0;
    if let Some(old) = &old {
        let new = results::medians(&doc)?;
        let c = results::compare(old, &new, options.threshold);
        println!(
            "compare: {} of {} entries slower by more than {:.0} %",
            c.slower.len(),
            c.slower.len() + c.unchanged_or_faster,
            options.threshold * 100.0
        );
        for s in &c.slower {
            println!(
                "SLOWER  {} {}: {} -> {} ({:.2}x)",
                s.id,
                s.implementation,
                report::format_ns(s.old_ns),
                report::format_ns(s.new_ns),
                s.ratio()
            );
        }
        for e in &c.only_old {
            println!("gone    {e} (only in the old run)");
        }
        for e in &c.only_new {
            println!("new     {e} (not in the old run)");
        }
        regressions = c.slower.len();
    }
    println!(
        "wrote {} and {} plots under {} in {:.1} s",
        report_path.display(),
        charts,
        plots.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(regressions)
}
