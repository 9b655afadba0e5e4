//! Facts about the machine and the process, read from `/proc` (Linux), and the one process
//! setting a cell's child makes: to die with its parent.

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

/// Peak resident set size of this process (`VmHWM`), in bytes. `getrusage`'s `ru_maxrss`
/// would report the parent's peak for a child started by a large parent.
pub fn peak_rss_bytes() -> Option<u64> {
    status_kib("VmHWM:").map(|kib| kib * 1024)
}

/// Resets `VmHWM` to the current RSS, so that the peak covers only what follows.
pub fn reset_peak_rss() {
    // Writing 5 to clear_refs resets the peak RSS; harmless if the kernel refuses.
    let _ = fs::write("/proc/self/clear_refs", "5");
}

fn status_kib(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

pub fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

pub fn kernel() -> String {
    fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into())
}

pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into())
}

/// The commit of the harness's source tree, with `-dirty` if it has uncommitted changes.
pub fn git_commit() -> String {
    let source = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(source)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
            if dirty { format!("{commit}-dirty") } else { commit }
        }
        None => "unknown".into(),
    }
}

/// Half of the machine's RAM (`MemTotal`), the default heap cap: a leaking cell stops there,
/// long before the kernel's OOM killer would step in. 4 GiB if `/proc/meminfo` is unreadable.
pub fn default_heap_cap() -> u64 {
    let total_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        text.lines().find(|l| l.starts_with("MemTotal:"))?.split_whitespace().nth(1)?.parse::<u64>().ok()
    });
    total_kib.map_or(4 << 30, |kib| kib * 1024 / 2)
}

/// The cargo profile the harness was built with (`release`, or `dev`, whose measured crates are
/// optimised as in release: see Cargo.toml), with `+debug-assertions` when the measured crates
/// (`strategies`, `workloads`) check them: such figures mislead (DESIGN §12).
pub fn build_profile() -> &'static str {
    match (env!("HARNESS_CARGO_PROFILE") == "release", debug_assertions()) {
        (true, false) => "release",
        (true, true) => "release+debug-assertions",
        (false, false) => "dev",
        (false, true) => "dev+debug-assertions",
    }
}

/// Whether a `build_profile` (a `runs.csv` column, [`build_profile`]) is one whose figures
/// mislead: the measured crates checked debug assertions.
pub fn checked_debug_assertions(build_profile: &str) -> bool {
    build_profile.ends_with("+debug-assertions")
}

/// Whether the measured code runs with debug assertions (the runtime crate's own setting, not the
/// harness's: the profiles set them per crate).
pub fn debug_assertions() -> bool {
    strategies::DEBUG_ASSERTIONS
}

/// Environment variables that change what a cell measures.
const MEASURED_ENVIRONMENT: [&str; 5] =
    ["RUST_BACKTRACE", "RUST_LIB_BACKTRACE", "MALLOC_CONF", "_RJEM_MALLOC_CONF", "LD_PRELOAD"];

/// The variables of [`MEASURED_ENVIRONMENT`] that are set, and the CPU frequency governor where
/// `/sys` shows it (`cpu_governor`).
pub fn environment() -> BTreeMap<String, String> {
    let mut found: BTreeMap<String, String> =
        MEASURED_ENVIRONMENT.iter().filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?))).collect();
    if let Ok(governor) = fs::read_to_string("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor") {
        found.insert("cpu_governor".into(), governor.trim().into());
    }
    found
}

/// The variable through which a parent tells its cell's child its pid.
pub const PARENT_PID: &str = "HARNESS_PARENT_PID";

/// Makes this process (a cell's child) receive SIGKILL when its parent dies, so no cell outlives
/// a killed harness; exits at once if the parent named in [`PARENT_PID`] is already gone.
pub fn die_with_parent() {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and changes only this process's
    // death signal; no memory is passed. Test: tests/cli.rs
    // `a_killed_harness_leaves_no_cell_running_and_its_sweep_resumes_to_the_same_result` (kill -9 the parent, the child is gone).
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
    }
    let expected = std::env::var(PARENT_PID).ok().and_then(|pid| pid.parse::<u32>().ok());
    if expected.is_some_and(|pid| pid != std::os::unix::process::parent_id()) {
        // The parent died before the death signal was set: nobody will read this cell.
        std::process::exit(137);
    }
}

/// What may disturb timings, as `pyperf system show` checks it: the load on the machine and CPU
/// frequency scaling. Recorded in `meta.json` (`system`) and printed as warnings.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct MachineState {
    /// `/proc/loadavg`: runnable processes averaged over 1, 5 and 15 minutes.
    pub load_average: Option<[f64; 3]>,
    /// CPUs this process may use.
    pub cpus: usize,
    /// The CPU frequency governor of cpu0, where `/sys` shows it (`performance` does not scale).
    pub cpu_governor: Option<String>,
    /// Whether turbo/boost is on (`/sys/devices/system/cpu/intel_pstate/no_turbo` or
    /// `cpufreq/boost`), where visible: it makes the clock depend on temperature.
    pub turbo: Option<bool>,
    /// Why timings of this run may be noisy; empty when nothing was seen.
    pub warnings: Vec<String>,
}

impl MachineState {
    /// The machine as it is now.
    pub fn now() -> MachineState {
        let load_average = fs::read_to_string("/proc/loadavg").ok().and_then(|text| {
            let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
            Some([fields.next()??, fields.next()??, fields.next()??])
        });
        let read = |path: &str| fs::read_to_string(path).ok().map(|s| s.trim().to_string());
        let cpu_governor = read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
        let turbo = read("/sys/devices/system/cpu/intel_pstate/no_turbo")
            .map(|no_turbo| no_turbo == "0")
            .or_else(|| read("/sys/devices/system/cpu/cpufreq/boost").map(|boost| boost == "1"));
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        MachineState::judged(load_average, cpus, cpu_governor, turbo)
    }

    /// The state with its warnings: a 1-minute load above the CPU count (other processes
    /// compete with the cells), a governor other than `performance`, turbo on.
    pub fn judged(
        load_average: Option<[f64; 3]>,
        cpus: usize,
        cpu_governor: Option<String>,
        turbo: Option<bool>,
    ) -> MachineState {
        let mut warnings = Vec::new();
        if let Some([one, ..]) = load_average
            && one > cpus as f64
        {
            warnings.push(format!(
                "the machine is busy: load average {one:.2} over the last minute, above its {cpus} CPUs; \
                 other processes compete with the cells and timings are noisy"
            ));
        }
        if let Some(governor) = cpu_governor.as_deref().filter(|g| *g != "performance") {
            warnings.push(format!(
                "CPU frequency scaling: governor `{governor}` (not `performance`); the clock speed varies during the run"
            ));
        }
        if turbo == Some(true) {
            warnings.push("CPU turbo boost is on; the clock speed depends on temperature".into());
        }
        MachineState { load_average, cpus, cpu_governor, turbo, warnings }
    }
}

/// The warning a build with debug assertions prints in the summary and on the report.
pub const DEBUG_BUILD_WARNING: &str = "this harness was built with debug assertions: its figures mislead \
     (generational costs 1.80× refcount's wall time in debug, 1.35× in release; DESIGN §12); rebuild with \
     --release before keeping any figure";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_above_the_cpu_count_and_a_scaling_governor_are_warned_about() {
        let quiet = MachineState::judged(Some([0.5, 0.4, 0.3]), 2, Some("performance".into()), Some(false));
        assert!(quiet.warnings.is_empty(), "{:?}", quiet.warnings);
        let busy = MachineState::judged(Some([8.8, 6.0, 5.4]), 2, Some("powersave".into()), None);
        assert_eq!(busy.warnings.len(), 2, "{:?}", busy.warnings);
        assert!(busy.warnings[0].contains("load average 8.80"));
        assert!(busy.warnings[1].contains("powersave"));
    }

    #[test]
    fn the_machine_state_reads_proc() {
        let state = MachineState::now();
        assert!(state.load_average.is_some(), "Linux has /proc/loadavg");
        assert!(state.cpus >= 1);
    }
}
