//! The Go baseline: `bench-suite/go/`, a Go program (standard library only)
//! that runs the channel, sync and scheduler workloads with goroutines, Go
//! channels, `select` and the `sync` package, in the same shapes and counts
//! as the Rust workloads of the same `group/name` (Go has no unbounded
//! channel, so the unbounded rows have no Go entry).
//!
//! The first use builds it with the `go` on `PATH` (`go build`, into a
//! directory under the system's temporary directory); every
//! [`Workload::run`] of a `go` entry then runs it once as a child process,
//! `hoarebench run <group/name> <ops>`, with `GOMAXPROCS` set to
//! [`PROCS`], the worker count of the Rust runtimes and the core count the
//! thread workloads are sized for (1 in the single-core tables). The program times its
//! own `ops` operations after one untimed warm-up of the same workload, so
//! process start-up is not in the figure, and prints `elapsed_ns <n>`; it
//! checks its own results (sums, completion) and fails loudly otherwise.
//!
//! Without Go ([`available`] returns the reason), `hoare-bench` leaves the
//! `go` entries out and the report says so; it does not fail.
//!
//! [`PROCS`]: crate::sched_adapters::PROCS

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::sched_adapters::PROCS;
use crate::workload::{Scenario, Workload};

/// The implementation name of the Go entries.
pub const IMPLEMENTATION: &str = "go";

/// The Go module's directory in this repository.
fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("go")
}

/// The built program and the Go version that built it.
struct Built {
    binary: PathBuf,
    version: String,
}

/// The built program, or why there is none; built once per process.
fn program() -> &'static Result<Built, String> {
    static PROGRAM: OnceLock<Result<Built, String>> = OnceLock::new();
    PROGRAM.get_or_init(build)
}

/// The built program's path.
///
/// # Panics
/// If Go is not [`available`]: a Go entry that cannot run stops the run
/// loudly rather than report a made-up figure.
fn binary() -> &'static Path {
    match program() {
        Ok(built) => &built.binary,
        Err(e) => panic!("the Go baseline is not available: {e}"),
    }
}

/// `go build` of [`source_dir`] into a per-user temporary directory.
fn build() -> Result<Built, String> {
    let version = Command::new("go")
        .arg("version")
        .output()
        .map_err(|e| format!("`go` is not on PATH ({e}); `apt-get install golang-go` adds it"))?;
    if !version.status.success() {
        return Err("`go version` failed".to_owned());
    }
    let dir = std::env::temp_dir().join("hoare-bench-go");
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let binary = dir.join("hoarebench");
    let mut build = Command::new("go");
    build
        .args(["build", "-o"])
        .arg(&binary)
        .arg(".")
        .current_dir(source_dir());
    // Go needs a build cache; without a home directory it has no default.
    if std::env::var_os("GOCACHE").is_none() && std::env::var_os("HOME").is_none() {
        build.env("GOCACHE", dir.join("cache"));
    }
    let out = build.output().map_err(|e| format!("run `go build`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`go build` of {} failed: {}",
            source_dir().display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Built {
        binary,
        version: String::from_utf8_lossy(&version.stdout).trim().to_owned(),
    })
}

/// `Ok` with the Go version if the Go entries can run, or the reason they
/// cannot (no `go` on `PATH`, a failed build).
pub fn available() -> Result<String, String> {
    match program() {
        Ok(built) => Ok(built.version.clone()),
        Err(e) => Err(e.clone()),
    }
}

/// Runs the built program with `args` under `GOMAXPROCS` = `procs` and
/// returns the number after `key` in its output.
///
/// # Panics
/// If Go is not [`available`], the program fails, or its output has no
/// `key` line: a Go entry that cannot measure stops the run loudly rather
/// than report a made-up figure.
fn query(args: &[&str], key: &str, procs: usize) -> f64 {
    let program = binary();
    let out = Command::new(program)
        .args(args)
        .env("GOMAXPROCS", procs.to_string())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the Go baseline failed on `{}`: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(key)?.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "the Go baseline printed no `{key}` for `{}`: {stdout}",
                args.join(" ")
            )
        })
}

/// Performs `ops` operations of `scenario` in the Go program and returns
/// the time it measured.
///
/// `GOMAXPROCS` is [`PROCS`], or 1 for a scenario measured in a process
/// pinned to one core, which is what Go picks by itself there.
pub fn run(scenario: &Scenario, ops: u64) -> Duration {
    let procs = if crate::chan_workloads::is_pinned(scenario) {
        1
    } else {
        PROCS
    };
    let nanos = query(
        &["run", &scenario.id(), &ops.to_string()],
        "elapsed_ns",
        procs,
    );
    Duration::from_nanos(nanos as u64)
}

/// What the goroutines of an idle measurement wait on.
#[derive(Clone, Copy, Debug)]
pub enum IdleOn {
    /// One channel shared by all of them, never sent on: the goroutine
    /// and its wait record alone.
    Shared,
    /// Each its own unbuffered channel, made before counting starts.
    Own,
}

/// Bytes the Go runtime took from the OS (`runtime.MemStats.Sys` growth)
/// per goroutine, with `tasks` goroutines blocked in a receive.
pub fn idle_bytes(tasks: usize, on: IdleOn) -> f64 {
    let on = match on {
        IdleOn::Shared => "shared",
        IdleOn::Own => "own",
    };
    query(&["idle", &tasks.to_string(), on], "idle_bytes", PROCS)
}

/// The `go` entry of `scenario`: a [`Workload`] whose `run` is [`run`] on
/// it. `$scenario` must be a path to a `static` [`Scenario`] (or an element
/// of a static array), so that the closure captures nothing.
#[macro_export]
#[doc(hidden)]
macro_rules! go_workload {
    ($scenario:expr) => {
        $crate::workload::Workload {
            scenario: &$scenario,
            implementation: $crate::go::IMPLEMENTATION,
            run: |ops| $crate::go::run(&$scenario, ops),
        }
    };
}

/// Whether `w` is a Go entry.
pub fn is_go(w: &Workload) -> bool {
    w.implementation == IMPLEMENTATION
}

/// The workload ids the Go program implements (`hoarebench list`).
///
/// # Panics
/// If Go is not [`available`].
pub fn listed() -> Vec<String> {
    let program = binary();
    let out = Command::new(program)
        .arg("list")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    assert!(out.status.success(), "`hoarebench list` failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Whether the Go tests must run: on CI, which installs Go, a missing Go
/// is a failure; elsewhere the tests say they skipped.
#[cfg(test)]
pub(crate) fn required_or_skip(test: &str) -> bool {
    match available() {
        Ok(_) => true,
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI needs Go: {e}"),
        Err(e) => {
            eprintln!("{test}: skipped, Go is not available: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_go_entry_is_implemented_by_the_go_program() {
        if !required_or_skip("every_go_entry_is_implemented_by_the_go_program") {
            return;
        }
        let listed = listed();
        let entries: Vec<String> = crate::workload::all()
            .iter()
            .filter(|w| is_go(w))
            .map(|w| w.scenario.id())
            .collect();
        assert!(!entries.is_empty(), "no Go entries");
        for id in &entries {
            assert!(listed.contains(id), "the Go program has no `{id}`");
        }
        for id in &listed {
            assert!(entries.contains(id), "the Go program's `{id}` has no entry");
        }
    }

    #[test]
    fn idle_goroutines_cost_more_than_nothing() {
        if !required_or_skip("idle_goroutines_cost_more_than_nothing") {
            return;
        }
        // 10,000 goroutines need at least their 2 KiB stacks from the OS.
        for on in [IdleOn::Shared, IdleOn::Own] {
            let bytes = idle_bytes(10_000, on);
            assert!(bytes >= 2_048.0, "{on:?}: {bytes} B per goroutine");
        }
    }
}
