//! `hoare-scaling`: measures the scaling tables and writes `SCALING.md`.
//!
//! ```text
//! cargo run --release -p hoare-bench --bin hoare-scaling [-- --quick | --smoke] [--out DIR]
//! ```
//!
//! The full run (the default) takes about five minutes on a 2-core
//! machine, `--quick` about one and a half, `--smoke` a few seconds (CI:
//! it proves every cell runs). The file goes to `bench-suite/` unless
//! `--out` names another directory (`--smoke` writes to the temporary
//! directory by default, so that it never replaces the published file).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use hoare_bench::machine::Machine;
use hoare_bench::measure::Budget;
use hoare_bench::scaling;
use indicatif::{ProgressBar, ProgressDrawTarget};

const USAGE: &str = "usage: hoare-scaling [--full | --quick | --smoke] [--out DIR]\n";

fn main() -> ExitCode {
    let mut budget = Budget {
        samples: 9,
        sample_time: Duration::from_millis(100),
        max_ops: hoare_bench::measure::MAX_OPS,
    };
    let mut mode = "full";
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--full" => {}
            "--quick" => {
                mode = "quick";
                budget.samples = 5;
                budget.sample_time = Duration::from_millis(40);
            }
            "--smoke" => {
                mode = "smoke";
                budget.samples = 3;
                budget.sample_time = Duration::from_millis(2);
            }
            "--out" => match args.next() {
                Some(dir) => out = Some(PathBuf::from(dir)),
                None => {
                    eprint!("error: --out needs a directory\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                print!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprint!("error: unknown option `{other}`\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("warning: debug build; pass --release for meaningful numbers");
    }
    let out = out.unwrap_or_else(|| {
        if mode == "smoke" {
            std::env::temp_dir().join("hoare-scaling-smoke")
        } else {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        }
    });
    let started = Instant::now();
    let machine = Machine::detect();
    let tables = scaling::tables();
    let steps = tables.iter().map(|t| scaling::steps(t, &budget)).sum();
    let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
    let measured: Vec<_> = tables
        .iter()
        .map(|t| {
            bar.set_message(t.title);
            scaling::measure(t, &budget, || bar.inc(1))
        })
        .collect();
    bar.finish_and_clear();
    let command = match mode {
        "full" => "cargo run --release -p hoare-bench --bin hoare-scaling".to_owned(),
        m => format!("cargo run --release -p hoare-bench --bin hoare-scaling -- --{m}"),
    };
    let text = scaling::render(&measured, &machine, &command, &budget);
    let path = out.join("SCALING.md");
    if let Err(e) = std::fs::create_dir_all(&out).and_then(|()| std::fs::write(&path, text)) {
        eprintln!("error: write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {} in {:.0} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
