//! Minimum mutator utilisation (MMU; Cheng and Blelloch, PLDI 2001): for a window length `w`,
//! the smallest fraction of any `w`-long stretch of the run left to the program, the pauses
//! taken out. MMU(w) is 0 for windows no longer than the longest pause and rises towards the
//! overall utilisation as `w` grows; GC papers plot it as a curve ([`curve`] over
//! [`curve_windows`], drawn by `charts/mmu.rs`), and the report tabulates points of it
//! ([`WINDOWS_NS`]), both from the pause record of each configuration's representative repeat
//! ([`mutator_pauses`]).
//!
//! The minimum is reached by a window that starts where a pause starts or ends where one ends,
//! so only those windows are tried; the pause time inside a window is a difference of the
//! running total [`Busy::until`], found by binary search.

use crate::report::data::Analysis;
use crate::results::RunRow;

/// The window lengths tabulated: 1 ms, 10 ms, 100 ms, 1 s.
pub const WINDOWS_NS: [f64; 4] = [1e6, 1e7, 1e8, 1e9];

/// Window lengths per decade on a drawn curve.
const CURVE_POINTS_PER_DECADE: f64 = 20.0;

/// The pauses of `row`'s cell that began while the workload ran, as `(start_ns, duration_ns)`,
/// and the run's length (its wall time): the exit collection, after the workload returned, is
/// no pause of the program's.
pub fn mutator_pauses(analysis: &Analysis, row: &RunRow) -> (Vec<(f64, f64)>, f64) {
    let wall_ns = row.time.wall_time_ms.unwrap_or(0.0) * 1e6;
    let pauses = analysis
        .pauses(row.key.cell)
        .iter()
        .map(|p| (p.start_ns as f64, p.duration_ns as f64))
        .filter(|(start, _)| *start < wall_ns)
        .collect();
    (pauses, wall_ns)
}

/// Window lengths from `shortest` to `longest` (both > 0), evenly spaced on a log scale,
/// both ends included.
pub fn curve_windows(shortest: f64, longest: f64) -> Vec<f64> {
    let decades = (longest / shortest).log10().max(0.0);
    let steps = (decades * CURVE_POINTS_PER_DECADE).ceil() as usize;
    if steps == 0 {
        return vec![shortest];
    }
    (0..=steps).map(|i| shortest * 10f64.powf(decades * i as f64 / steps as f64)).collect()
}

/// The MMU curve of one run: `(window, mmu)` for each of `windows` shorter than the run, then
/// for the whole run (the overall utilisation, where the curve ends).
pub fn curve(pauses: &[(f64, f64)], total_ns: f64, windows: &[f64]) -> Vec<(f64, f64)> {
    let shorter = windows.iter().copied().filter(|w| *w < total_ns);
    shorter.chain([total_ns]).map(|w| (w, mmu(pauses, total_ns, w))).collect()
}

/// Pauses as sorted `(start, duration)` intervals with their running total of pause time.
struct Busy {
    starts: Vec<f64>,
    durations: Vec<f64>,
    /// `before[i]`: pause time of the first `i` pauses.
    before: Vec<f64>,
}

impl Busy {
    fn new(pauses: &[(f64, f64)]) -> Busy {
        let mut sorted = pauses.to_vec();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut before = vec![0.0];
        for (_, d) in &sorted {
            before.push(before.last().copied().unwrap_or(0.0) + d);
        }
        Busy { starts: sorted.iter().map(|p| p.0).collect(), durations: sorted.iter().map(|p| p.1).collect(), before }
    }

    /// Pause time in `[0, x]`: the pauses begun by `x`, the last one cut at `x`.
    fn until(&self, x: f64) -> f64 {
        match self.starts.partition_point(|s| *s <= x) {
            0 => 0.0,
            begun => self.before[begun - 1] + (x - self.starts[begun - 1]).clamp(0.0, self.durations[begun - 1]),
        }
    }
}

/// MMU of a run of `total_ns` with `pauses` (`(start_ns, duration_ns)`, not overlapping) for a
/// window of `window_ns`; a window at least as long as the run is the whole run.
pub fn mmu(pauses: &[(f64, f64)], total_ns: f64, window_ns: f64) -> f64 {
    if total_ns <= 0.0 {
        return 1.0;
    }
    let busy = Busy::new(pauses);
    let window = window_ns.min(total_ns);
    let last_start = total_ns - window;
    let candidates = busy
        .starts
        .iter()
        .zip(&busy.durations)
        .flat_map(|(s, d)| [*s, s + d - window])
        .chain([0.0, last_start])
        .map(|t| t.clamp(0.0, last_start));
    let worst_pause_time = candidates.map(|t| busy.until(t + window) - busy.until(t)).fold(0.0, f64::max);
    ((window - worst_pause_time) / window).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pause_of_10_ms_in_a_100_ms_run() {
        let pauses = [(40e6, 10e6)];
        assert_eq!(mmu(&pauses, 100e6, 5e6), 0.0, "a window inside the pause");
        assert_eq!(mmu(&pauses, 100e6, 10e6), 0.0);
        assert!((mmu(&pauses, 100e6, 20e6) - 0.5).abs() < 1e-12);
        assert!((mmu(&pauses, 100e6, 100e6) - 0.9).abs() < 1e-12);
        assert!((mmu(&pauses, 100e6, 1e9) - 0.9).abs() < 1e-12, "a window longer than the run is the run");
        assert_eq!(mmu(&[], 100e6, 1e6), 1.0, "no pause, full utilisation");
    }

    #[test]
    fn clustered_pauses_lower_the_mmu_more_than_spread_ones() {
        let clustered = [(10e6, 2e6), (13e6, 2e6), (16e6, 2e6)];
        let spread = [(10e6, 2e6), (40e6, 2e6), (70e6, 2e6)];
        let (c, s) = (mmu(&clustered, 100e6, 10e6), mmu(&spread, 100e6, 10e6));
        assert!((c - 0.4).abs() < 1e-12, "{c}");
        assert!((s - 0.8).abs() < 1e-12, "{s}");
    }

    #[test]
    fn curve_windows_are_log_spaced_with_both_ends() {
        let windows = curve_windows(1e4, 1e8);
        assert_eq!(windows.len(), 81, "4 decades, 20 points each, and the last");
        assert_eq!(windows[0], 1e4);
        assert!((windows[80] - 1e8).abs() < 1e-3);
        assert!((windows[20] - 1e5).abs() < 1e-6, "{}", windows[20]);
        assert_eq!(curve_windows(5e6, 5e6), [5e6], "one window when both ends are equal");
    }

    #[test]
    fn the_curve_is_zero_up_to_the_longest_pause_then_rises_to_the_utilisation() {
        let pauses = [(10e6, 4e6), (50e6, 1e6)];
        let curve = curve(&pauses, 100e6, &curve_windows(1e6, 1e9));
        assert!(curve.iter().all(|(w, _)| *w <= 100e6), "no window longer than the run");
        for (w, u) in &curve {
            if *w <= 4e6 {
                assert!(*u < 1e-12, "window {w} fits inside the 4 ms pause: {u}");
            } else {
                assert!(*u > 0.0, "window {w}");
            }
        }
        let (last_window, last) = *curve.last().unwrap();
        assert_eq!(last_window, 100e6);
        assert!((last - 0.95).abs() < 1e-9, "the whole run: 5 ms of pauses in 100 ms");
    }
}
