//! The machine summary at the top of the report.
//!
//! Everything here is read at run time: the CPU model from
//! `/proc/cpuinfo`, the core count from the OS, the compiler from
//! `rustc -V` (the `RUSTC` variable cargo sets wins over `PATH`), and Go's
//! version from `go version` when `go` is installed (the Go baseline will
//! need it). Whatever cannot be read is reported as "unknown", never
//! guessed.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the numbers in a report were measured on.
#[derive(Clone, Debug)]
pub struct Machine {
    /// CPU model name, e.g. "AMD EPYC 7B13".
    pub cpu_model: String,
    /// Hardware threads available to this process.
    pub cores: usize,
    /// Operating system, architecture and kernel release.
    pub os: String,
    /// Output of `rustc -V`.
    pub rustc: String,
    /// Output of `go version`, if Go is installed.
    pub go: Option<String>,
    /// The date of the run, `YYYY-MM-DD` (UTC).
    pub date: String,
}

impl Machine {
    /// Reads the summary of the machine this process runs on.
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
        Machine {
            cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".to_owned()),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: format!(
                "{} {} {}",
                std::env::consts::OS,
                std::env::consts::ARCH,
                kernel.trim()
            )
            .trim()
            .to_owned(),
            rustc: command_line(&rustc, &["-V"]).unwrap_or_else(|| "unknown".to_owned()),
            go: command_line("go", &["version"]),
            date: utc_date(SystemTime::now()),
        }
    }
}

/// The first `model name` of a `/proc/cpuinfo` text.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(key, _)| key.trim() == "model name")
        .map(|(_, value)| value.trim().to_owned())
}

/// The first line a command prints, if it runs and succeeds.
fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .next()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
}

/// `time` as a UTC calendar date, `YYYY-MM-DD`.
///
/// Howard Hinnant's `civil_from_days`: shift the year to start in March so
/// the leap day is the last day of the year, then split into 400-year eras.
fn utc_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_are_civil_utc() {
        let at = |secs| utc_date(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01");
        assert_eq!(at(951_782_400), "2000-02-29");
        assert_eq!(at(1_709_251_199), "2024-02-29");
        assert_eq!(at(1_735_689_600), "2025-01-01");
    }

    #[test]
    fn cpu_model_is_the_first_model_name() {
        let info =
            "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: other\n";
        assert_eq!(cpu_model(info).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model(""), None);
    }
}
