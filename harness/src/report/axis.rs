//! Chart axes: one coordinate type, [`Axis`], that is linear or logarithmic at run time and
//! knows its quantity's unit, so that every chart gets nice ticks and labelled units the same
//! way.
//!
//! Values are given in base units (nanoseconds, bytes, counts). A linear axis picks one display
//! unit for the whole axis (`wall time (ms)`, ticks `0, 200, 400`); a logarithmic axis labels
//! each tick with its own unit (`10 µs`, `1 ms`, `100 ms`), so a span of six orders of
//! magnitude stays readable, and says `log scale` in its description.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, KeyPointWeight, NoDefaultFormatting, Ranged, ValueFormatter};

/// An axis chooses a logarithmic scale when its positive values span at least this factor.
pub const LOG_SPAN: f64 = 10.0;

/// What an axis measures, in base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds.
    Duration,
    /// Bytes.
    Bytes,
    /// A count of things (objects, allocations).
    Count,
    /// A fraction between 0 and 1.
    Fraction,
    /// A plain number without a unit (a parameter's value).
    Plain,
    /// Positions of named categories (0, 1, 2, …), labelled by the chart.
    Category,
}

/// A display unit: the divisor from base units and the unit's name.
#[derive(Clone, Copy, Debug, PartialEq)]
struct DisplayUnit {
    divisor: f64,
    name: &'static str,
}

impl Unit {
    /// Ticks of a log axis go at powers of this: 10, or 4 for bytes, whose powers are the
    /// binary sizes people use (1 KiB = 4⁵, 4 KiB, 16 KiB, 64 KiB, 256 KiB, 1 MiB, …).
    fn log_base(self) -> f64 {
        if self == Unit::Bytes { 4.0 } else { 10.0 }
    }

    /// The display unit that suits values up to `max` (base units).
    fn display_for(self, max: f64) -> DisplayUnit {
        let pick = |steps: &[(f64, &'static str)]| {
            let (divisor, name) = steps.iter().rev().find(|(divisor, _)| max >= *divisor).copied().unwrap_or(steps[0]);
            DisplayUnit { divisor, name }
        };
        match self {
            Unit::Duration => pick(&[(1.0, "ns"), (1e3, "µs"), (1e6, "ms"), (1e9, "s")]),
            Unit::Bytes => pick(&[(1.0, "B"), (1024.0, "KiB"), (1_048_576.0, "MiB"), (1_073_741_824.0, "GiB")]),
            Unit::Count => pick(&[(1.0, ""), (1e3, "thousands"), (1e6, "millions"), (1e9, "billions")]),
            Unit::Fraction | Unit::Plain | Unit::Category => DisplayUnit { divisor: 1.0, name: "" },
        }
    }
}

/// A linear or logarithmic axis over `lo..hi` (base units).
#[derive(Clone, Debug)]
pub struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    unit: Unit,
    display: DisplayUnit,
    /// Names of the category positions, for [`Unit::Category`].
    categories: Vec<String>,
}

impl Axis {
    /// A linear axis from `lo` to `hi`.
    pub fn linear(lo: f64, hi: f64, unit: Unit) -> Axis {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Axis { lo, hi, log: false, unit, display: unit.display_for(hi.abs().max(lo.abs())), categories: Vec::new() }
    }

    /// A logarithmic axis covering `min..=max` (both > 0), widened to whole powers of its base
    /// (see [`Unit::log_base`]). It starts strictly below `min`, so a bar of the smallest value
    /// (1 MiB among MiB bars) still has a length.
    pub fn log(min: f64, max: f64, unit: Unit) -> Axis {
        assert!(min > 0.0 && max >= min, "a log axis needs positive bounds, got {min}..{max}");
        let base = unit.log_base();
        let lo = base.powf((min.log(base) - 1e-9).floor());
        let mut hi = base.powf(max.log(base).ceil());
        if hi <= lo {
            hi = lo * base;
        }
        Axis { lo, hi, log: true, unit, display: unit.display_for(hi), categories: Vec::new() }
    }

    /// An axis for amounts (times, bytes, counts): logarithmic when the positive values span
    /// [`LOG_SPAN`] or more and `zero_matters` is false, otherwise linear from zero, with a little
    /// headroom. Zero values cannot be drawn on a log axis; callers drop them there.
    pub fn for_amounts(values: impl IntoIterator<Item = f64>, unit: Unit, zero_matters: bool) -> Axis {
        let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        let max = values.iter().copied().fold(0.0, f64::max);
        let min_positive = values.iter().copied().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        if !zero_matters && min_positive.is_finite() && max / min_positive >= LOG_SPAN {
            Axis::log(min_positive, max, unit)
        } else {
            Axis::linear(0.0, if max > 0.0 { max * 1.08 } else { 1.0 }, unit)
        }
    }

    /// An axis for a swept parameter's numeric values: logarithmic when they span [`LOG_SPAN`]
    /// or more, with room around the first and last value so that their markers show whole.
    pub fn for_parameter(values: &[f64]) -> Axis {
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if min > 0.0 && max / min >= LOG_SPAN {
            let pad = (max / min).powf(0.06);
            return Axis {
                lo: min / pad,
                hi: max * pad,
                log: true,
                unit: Unit::Plain,
                display: Unit::Plain.display_for(max),
                categories: Vec::new(),
            };
        }
        let pad = if max > min { (max - min) * 0.06 } else { 1.0 };
        Axis::linear(min - pad, max + pad, Unit::Plain)
    }

    /// A category axis: positions 0..n, one per name, with half a step of room at each end.
    pub fn categories(names: Vec<String>) -> Axis {
        let n = names.len().max(1) as f64;
        Axis {
            lo: -0.5,
            hi: n - 0.5,
            log: false,
            unit: Unit::Category,
            display: DisplayUnit { divisor: 1.0, name: "" },
            categories: names,
        }
    }

    /// Whether the axis names categories (no grid lines are drawn through them).
    pub fn is_categorical(&self) -> bool {
        self.unit == Unit::Category
    }

    /// Whether the axis is logarithmic.
    pub fn is_log(&self) -> bool {
        self.log
    }

    /// Whether a value can be drawn on this axis (a log axis cannot show zero or less).
    pub fn shows(&self, value: f64) -> bool {
        value.is_finite() && (!self.log || value > 0.0)
    }

    /// The axis description: the quantity and its unit, e.g. `wall time (ms)`, or `(log scale)`
    /// when each tick carries its own unit.
    pub fn describe(&self, quantity: &str) -> String {
        match (self.log, self.display.name) {
            (true, _) => format!("{quantity} (log scale)"),
            (false, "") => quantity.to_string(),
            (false, unit) => format!("{quantity} ({unit})"),
        }
    }

    /// A tick label. Linear axes print the number in the axis' display unit; log axes print
    /// each tick with its own unit.
    pub fn tick_label(&self, value: f64) -> String {
        match self.unit {
            Unit::Category => {
                let index = value.round();
                if (value - index).abs() < 1e-9 && index >= 0.0 {
                    self.categories.get(index as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
            _ if self.log => human(value, self.unit),
            _ => plain_number(value / self.display.divisor),
        }
    }

    /// The labels of the ticks drawn when at most `max_points` are asked for.
    pub fn tick_labels(&self, max_points: usize) -> Vec<String> {
        self.major_ticks(max_points).into_iter().map(|t| self.tick_label(t)).collect()
    }

    fn fraction(&self, value: f64) -> f64 {
        if self.log {
            (value.max(self.lo * 1e-3).log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (value - self.lo) / (self.hi - self.lo)
        }
    }

    /// Tick positions with labels: nice numbers in the display unit (linear), or powers of the
    /// log base, with finer multiples when the axis spans few of them (log).
    fn major_ticks(&self, max_points: usize) -> Vec<f64> {
        let max_points = max_points.max(2);
        if self.unit == Unit::Category {
            return (0..self.categories.len()).map(|i| i as f64).collect();
        }
        if !self.log {
            let divisor = self.display.divisor;
            return nice_linear_ticks(self.lo / divisor, self.hi / divisor, max_points)
                .into_iter()
                .map(|t| t * divisor)
                .collect();
        }
        let base = self.unit.log_base();
        let (first, last) = self.exponents();
        let powers: Vec<f64> = (first..=last).map(|e| base.powi(e)).collect();
        if powers.len() >= 4 {
            let stride = powers.len().div_ceil(max_points).max(1);
            return powers.into_iter().step_by(stride).collect();
        }
        // Few powers: add 2 and 5 times each decade (2 times each power of 4).
        let multiples: &[f64] = if base == 10.0 { &[1.0, 2.0, 5.0] } else { &[1.0, 2.0] };
        let finer: Vec<f64> = (first - 1..=last)
            .flat_map(|e| multiples.iter().map(move |m| m * base.powi(e)))
            .filter(|v| self.in_range(*v))
            .collect();
        if (2..=max_points).contains(&finer.len()) {
            return finer;
        }
        if powers.len() >= 2 {
            return powers;
        }
        // Less than one power: nice linear steps in the display unit read best.
        let divisor = self.display.divisor;
        nice_linear_ticks(self.lo / divisor, self.hi / divisor, max_points.min(5))
            .into_iter()
            .map(|t| t * divisor)
            .filter(|v| *v > 0.0)
            .collect()
    }

    /// The exponents of the first and last power of the log base inside the axis.
    fn exponents(&self) -> (i32, i32) {
        let base = self.unit.log_base();
        ((self.lo.log(base) - 1e-9).ceil() as i32, (self.hi.log(base) + 1e-9).floor() as i32)
    }

    fn in_range(&self, value: f64) -> bool {
        value >= self.lo * 0.999 && value <= self.hi * 1.001
    }

    /// Light grid positions: on a log axis, every multiple of each power (1…9 × 10ᵏ; 1, 2 × 4ᵏ)
    /// when every power is labelled, each power when some are skipped; the ticks themselves on
    /// a linear axis.
    fn minor_ticks(&self, max_major: usize) -> Vec<f64> {
        if !self.log {
            return self.major_ticks(max_major);
        }
        let base = self.unit.log_base();
        let (first, last) = self.exponents();
        let every_power_labelled = self.major_ticks(max_major).len() as i32 > last - first;
        let multiples: Vec<f64> = match (every_power_labelled, base == 10.0) {
            (false, _) => vec![1.0],
            (true, true) => (1..10).map(f64::from).collect(),
            (true, false) => vec![1.0, 2.0],
        };
        (first - 1..=last)
            .flat_map(|e| multiples.iter().map(move |m| m * base.powi(e)))
            .filter(|v| self.in_range(*v))
            .collect()
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (from, to): (i32, i32)) -> i32 {
        from + ((to - from) as f64 * self.fraction(*value)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match hint.weight() {
            KeyPointWeight::Bold => self.major_ticks(hint.max_num_points()),
            KeyPointWeight::Any => self.minor_ticks(hint.bold_points()),
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        self.tick_label(*value)
    }
}

/// Ticks at 1, 2 or 5 × 10^k steps covering `lo..=hi`, at most `max_points` of them.
fn nice_linear_ticks(lo: f64, hi: f64, max_points: usize) -> Vec<f64> {
    let raw = (hi - lo) / max_points as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A number without needless digits: `0`, `2.5`, `150`, `12,000`.
pub fn plain_number(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if value.abs() >= 1000.0 && value.fract() == 0.0 {
        let digits = format!("{}", value.abs() as u64);
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        return if value < 0.0 { format!("-{grouped}") } else { grouped };
    }
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A value in base units as people write it: `250 ns`, `12 µs`, `3.2 ms`, `41 MiB`, `1.5M`.
pub fn human(value: f64, unit: Unit) -> String {
    let display = unit.display_for(value.abs());
    let scaled = value / display.divisor;
    let number = if scaled.abs() >= 100.0 || scaled.fract() == 0.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 10.0 {
        plain_number((scaled * 10.0).round() / 10.0)
    } else {
        plain_number((scaled * 100.0).round() / 100.0)
    };
    match unit {
        Unit::Count => {
            let suffix = match display.name {
                "thousands" => "k",
                "millions" => "M",
                "billions" => "G",
                _ => "",
            };
            format!("{number}{suffix}")
        }
        Unit::Fraction | Unit::Plain | Unit::Category => plain_number(value),
        _ => format!("{number} {}", display.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_nice_numbers_in_the_display_unit() {
        let axis = Axis::linear(0.0, 830e6, Unit::Duration);
        assert_eq!(axis.describe("wall time"), "wall time (ms)");
        let ticks = axis.major_ticks(8);
        assert_eq!(ticks.iter().map(|t| axis.tick_label(*t)).collect::<Vec<_>>(), ["0", "200", "400", "600", "800"]);
    }

    #[test]
    fn log_axes_span_whole_decades_and_label_each_tick_with_its_unit() {
        let axis = Axis::log(4_600.0, 32_000_000.0, Unit::Duration);
        assert_eq!(axis.range(), 1_000.0..100_000_000.0);
        assert_eq!(axis.describe("pause"), "pause (log scale)");
        let labels: Vec<String> = axis.major_ticks(10).iter().map(|t| axis.tick_label(*t)).collect();
        assert_eq!(labels, ["1 µs", "10 µs", "100 µs", "1 ms", "10 ms", "100 ms"]);
        let few = Axis::log(120.0, 900.0, Unit::Duration);
        assert_eq!(few.major_ticks(10), [100.0, 200.0, 500.0, 1000.0]);
    }

    #[test]
    fn log_byte_axes_tick_at_binary_sizes() {
        let axis = Axis::log(3_000.0, 90_000_000.0, Unit::Bytes);
        assert_eq!(axis.range(), 1024.0..(256u64 << 20) as f64);
        let labels: Vec<String> = axis.major_ticks(8).iter().map(|t| axis.tick_label(*t)).collect();
        assert_eq!(labels, ["1 KiB", "16 KiB", "256 KiB", "4 MiB", "64 MiB"]);
        let few = Axis::log(100.0, 900.0, Unit::Bytes);
        assert_eq!(few.tick_labels(10), ["64 B", "128 B", "256 B", "512 B", "1 KiB"]);
    }

    #[test]
    fn a_log_axis_starts_below_its_smallest_value_so_its_bar_shows() {
        let mib = (1u64 << 20) as f64;
        assert_eq!(Axis::log(mib, 13.8 * mib, Unit::Bytes).range(), 256.0 * 1024.0..16.0 * mib);
        assert_eq!(Axis::log(1_000.0, 5_000.0, Unit::Duration).range().start, 100.0);
    }

    #[test]
    fn amounts_go_logarithmic_only_when_they_span_orders_of_magnitude() {
        let is_log = |axis: Axis| axis.describe("x").ends_with("(log scale)");
        assert!(is_log(Axis::for_amounts([5.0, 2000.0], Unit::Duration, false)));
        assert!(!is_log(Axis::for_amounts([5.0, 20.0], Unit::Duration, false)));
        assert!(!is_log(Axis::for_amounts([5.0, 2000.0], Unit::Duration, true)));
        assert!(!is_log(Axis::for_amounts([0.0, 0.0], Unit::Bytes, false)));
    }

    #[test]
    fn human_values() {
        assert_eq!(human(250.0, Unit::Duration), "250 ns");
        assert_eq!(human(12_400.0, Unit::Duration), "12.4 µs");
        assert_eq!(human(3_210_000.0, Unit::Duration), "3.21 ms");
        assert_eq!(human(43_000_000.0, Unit::Bytes), "41 MiB");
        assert_eq!(human(1_500_000.0, Unit::Count), "1.5M");
        assert_eq!(plain_number(12_000.0), "12,000");
        assert_eq!(plain_number(2.5), "2.5");
    }

    #[test]
    fn categories_label_their_positions() {
        let axis = Axis::categories(vec!["true".into(), "false".into()]);
        assert_eq!(axis.range(), -0.5..1.5);
        assert_eq!(axis.major_ticks(8), [0.0, 1.0]);
        assert_eq!(axis.tick_label(1.0), "false");
    }
}
