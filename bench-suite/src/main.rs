//! `hoare-bench`: runs the comparison suite and writes the report.
//!
//! ```text
//! cargo run --release -p hoare-bench -- --quick     # < 2 min, writes bench-suite/REPORT.md
//! cargo run --release -p hoare-bench                # full run, ~5 min
//! cargo run --release -p hoare-bench -- --smoke     # seconds; report to a temp dir
//! ```
//!
//! Steps: parse the options, detect the machine, measure each scenario
//! (progress bar on stderr; plain lines instead when stderr is not a
//! terminal), then write `REPORT.md` and `plots/*.svg` under the output
//! directory and print the targets' verdicts.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use hoare_bench::machine::Machine;
use hoare_bench::measure::{self, Config};
use hoare_bench::report::{self, Run};
use hoare_bench::targets::{TARGETS, Verdict};
use hoare_bench::{plot, workload};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const USAGE: &str = "\
hoare-bench: compare hoare with std, parking_lot, crossbeam and tokio

USAGE: cargo run --release -p hoare-bench -- [OPTIONS]

OPTIONS:
    --quick           short run (under 2 minutes on 2 cores)
    --smoke           tiny run that only proves every workload works;
                      writes to <temp dir>/hoare-bench-smoke unless --out is given
    --out <DIR>       write REPORT.md and plots/ to DIR
                      (default: the bench-suite crate directory)
    --filter <TEXT>   only scenarios whose group/name contains TEXT
    --list            list the workloads and exit
    -h, --help        print this help
";

/// The parsed command line.
struct Options {
    config: Config,
    out: PathBuf,
    filter: Option<String>,
    list: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut config = Config::full();
    let mut out = None;
    let mut filter = None;
    let mut list = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => config = Config::quick(),
            "--smoke" => config = Config::smoke(),
            "--full" => config = Config::full(),
            "--list" => list = true,
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a directory")?)),
            "--filter" => filter = Some(it.next().ok_or("--filter needs a text")?.clone()),
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
        list,
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
        })
        .collect();
    if options.list {
        for w in &workloads {
            println!("{} {}", w.scenario.id(), w.implementation);
        }
        return ExitCode::SUCCESS;
    }
    if workloads.is_empty() {
        eprintln!("error: no workload matches the filter");
        return ExitCode::from(2);
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; pass --release for meaningful numbers");
    }
    match run(&options, &args, &workloads) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    options: &Options,
    args: &[String],
    workloads: &[workload::Workload],
) -> Result<(), Box<dyn std::error::Error>> {
    let config = &options.config;
    let machine = Machine::detect();
    let started = Instant::now();
    let plain = !std::io::stderr().is_terminal();
    eprintln!(
        "hoare-bench: {} mode, {} workloads, {} samples each, on {} ({} cores)",
        config.mode,
        workloads.len(),
        config.samples,
        machine.cpu_model,
        machine.cores
    );

    let bar = progress_bar(config.steps(workloads.len()));
    let mut results = Vec::new();
    for (scenario, entries) in workload::by_scenario(workloads) {
        bar.set_message(scenario.id());
        let measured = measure::measure_scenario(&entries, config, |_| bar.inc(1));
        if plain {
            let best = report::fastest(&measured);
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
        results.push((scenario, measured));
    }
    bar.finish_and_clear();

    let plots = options.out.join("plots");
    std::fs::create_dir_all(&plots)?;
    for (scenario, measured) in &results {
        plot::bar_chart(&plots, scenario, measured)?;
    }
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
        wall_time: started.elapsed(),
    });
    let report_path = options.out.join("REPORT.md");
    std::fs::write(&report_path, text)?;

    let all: Vec<_> = results
        .iter()
        .flat_map(|(_, m)| m.iter().cloned())
        .collect();
    for t in TARGETS {
        match t.judge(&all) {
            Verdict::Met(r) => println!("MET     {:<50} {r:.2} (≤ {:.1})", t.label, t.max_ratio),
            Verdict::Missed(r) => println!("MISSED  {:<50} {r:.2} (≤ {:.1})", t.label, t.max_ratio),
            Verdict::NotMeasured => println!("-       {:<50} not measured", t.label),
        }
    }
    println!(
        "wrote {} and {} plots under {} in {:.1} s",
        report_path.display(),
        results.len(),
        plots.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
