//! Parameters, each declared once.
//!
//! A [`Param`] is one typed declaration: its name, its [`Kind`] (what values it takes, parsed
//! and range-checked in one place), its default (one value, or one per [`Size`] preset) and its
//! help. The same declaration parses and checks what a user gave ([`Reader::get`]), lists the
//! values in force for the result files ([`Reader::finish`]), renders `--list` and `--help`
//! ([`options`]) and words every error ([`ParamError`], one type for workloads and strategies).
//!
//! ```text
//!   const ROOTS: Param<Int<u64>> = Param::new("roots", Int::at_least(1), BySize([20, 200, 2000, 20000]), "root slots");
//!   let mut p = Reader::new(Owner::workload("churn"), &[&ROOTS, ...], &given)?.sized(size);
//!   let roots = p.get(&ROOTS)?;           // typed; given or default; range-checked
//!   let in_force = p.finish()?;           // [("roots", "200"), ...] for the result files
//! ```
//!
//! A parameter that belongs to one variant of its owner says so with [`Param::only_when`]; the
//! owner reads it only in that variant, and [`Reader::finish`] refuses it when it was given but
//! not read. Names nobody declared are refused by [`check_names`], the one unknown-name check.

use std::collections::BTreeMap;
use std::fmt;
use std::num::IntErrorKind;
use std::str::FromStr;

/// Size presets, smallest first. `smoke` runs in well under a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Size {
    Smoke,
    Small,
    Default,
    Large,
}

impl Size {
    pub const ALL: [Size; 4] = [Size::Smoke, Size::Small, Size::Default, Size::Large];

    pub fn name(self) -> &'static str {
        match self {
            Size::Smoke => "smoke",
            Size::Small => "small",
            Size::Default => "default",
            Size::Large => "large",
        }
    }

    pub fn from_name(name: &str) -> Option<Size> {
        Size::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Who a parameter belongs to, for messages: "workload `churn`", "strategy `manual`".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner {
    pub kind: &'static str,
    pub name: &'static str,
}

impl Owner {
    pub const fn workload(name: &'static str) -> Owner {
        Owner { kind: "workload", name }
    }

    pub const fn strategy(name: &'static str) -> Owner {
        Owner { kind: "strategy", name }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind, self.name)
    }
}

/// A parameter its owner does not have, or a value it cannot use.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamError {
    #[error("{owner} has no parameter `{name}` (it accepts: {accepted})")]
    Unknown { owner: Owner, name: String, accepted: String },
    #[error("{owner}: parameter `{name}` = `{value}`: {reason}")]
    Invalid { owner: Owner, name: String, value: String, reason: String },
}

impl ParamError {
    /// The error for `value` of parameter `name`.
    pub fn invalid(owner: Owner, name: &str, value: impl fmt::Display, reason: impl fmt::Display) -> ParamError {
        ParamError::Invalid { owner, name: name.to_string(), value: value.to_string(), reason: reason.to_string() }
    }
}

/// Parameter values as given (command line, experiment file), by name.
pub type Given = BTreeMap<String, String>;

/// What values a parameter takes: how to parse and check one, and how to show one.
pub trait Kind: Copy + Sync + 'static {
    type Value: Copy + Sync;

    /// Parses `text` and checks it is allowed; the reason if not.
    fn parse(&self, text: &str) -> Result<Self::Value, String>;

    /// Checks a value that was not parsed (a default); the reason if it is not allowed.
    fn check(&self, value: Self::Value) -> Result<(), String>;

    /// The value as a user would write it (and as the result files show it).
    fn show(&self, value: Self::Value) -> String;

    /// The allowed values, for `--list`: `1..=1000`, `>= 1`, `strong or weak-value`.
    fn allowed(&self) -> String;

    /// The value as the result files show it; `None` leaves the parameter out of them.
    fn in_force(&self, value: Self::Value) -> Option<String> {
        Some(self.show(value))
    }
}

/// Where a parameter's default comes from.
#[derive(Clone, Copy, Debug)]
pub enum Defaults<T> {
    /// One value at every size.
    Fixed(T),
    /// One value per size, in [`Size::ALL`] order (smoke, small, default, large).
    BySize([T; 4]),
}

/// One typed parameter declaration.
#[derive(Clone, Copy, Debug)]
pub struct Param<K: Kind> {
    pub name: &'static str,
    pub kind: K,
    pub default: Defaults<K::Value>,
    pub help: &'static str,
    /// `(parameter, value)`: it applies only when that other parameter has that value.
    pub only_when: Option<(&'static str, &'static str)>,
}

impl<K: Kind> Param<K> {
    pub const fn new(name: &'static str, kind: K, default: Defaults<K::Value>, help: &'static str) -> Param<K> {
        Param { name, kind, default, help, only_when: None }
    }

    /// The same parameter, applying only when parameter `name` is `value` (a variant's own).
    pub const fn only_when(self, name: &'static str, value: &'static str) -> Param<K> {
        Param { only_when: Some((name, value)), ..self }
    }

    /// The default at `size`.
    pub fn default_at(&self, size: Size) -> K::Value {
        match self.default {
            Defaults::Fixed(value) => value,
            Defaults::BySize(values) => values[size as usize],
        }
    }
}

/// A declaration seen without its type: what listings and name checks need.
pub trait ParamInfo: Sync {
    fn name(&self) -> &'static str;
    fn help(&self) -> &'static str;
    /// `8`, or `10000/100000/1000000/10000000` (one per size).
    fn default_text(&self) -> String;
    /// The allowed values; empty when unknown.
    fn allowed(&self) -> String;
    fn only_when(&self) -> Option<(&'static str, &'static str)>;
}

impl<K: Kind> ParamInfo for Param<K> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn help(&self) -> &'static str {
        self.help
    }

    fn default_text(&self) -> String {
        match self.default {
            Defaults::Fixed(value) => self.kind.show(value),
            Defaults::BySize(values) => values.map(|v| self.kind.show(v)).join("/"),
        }
    }

    fn allowed(&self) -> String {
        self.kind.allowed()
    }

    fn only_when(&self) -> Option<(&'static str, &'static str)> {
        self.only_when
    }
}

/// One line per parameter for `--list` and `--help`: `      {flag}{name}=…  {help} [default: …]
/// [allowed: …]`, or `(no parameters)`. Defaults written `a/b/c/d` follow the sizes
/// smoke/small/default/large.
pub fn options<'a>(flag: &str, params: impl IntoIterator<Item = &'a dyn ParamInfo>) -> String {
    let mut out = String::new();
    for p in params {
        out += &format!("      {flag}{}=…  {} [default: {}]", p.name(), p.help(), p.default_text());
        let allowed = p.allowed();
        if !allowed.is_empty() {
            out += &format!(" [allowed: {allowed}]");
        }
        if let Some((name, value)) = p.only_when() {
            out += &format!(" [only with {name}={value}]");
        }
        out += "\n";
    }
    if out.is_empty() {
        out += "      (no parameters)\n";
    }
    out
}

/// Refuses the first given name that no declaration has, listing the accepted ones.
pub fn check_names<'a>(
    owner: Owner,
    declared: impl IntoIterator<Item = &'a dyn ParamInfo> + Clone,
    given: &Given,
) -> Result<(), ParamError> {
    let Some(unknown) = given.keys().find(|k| !declared.clone().into_iter().any(|p| p.name() == k.as_str())) else {
        return Ok(());
    };
    let mut accepted: Vec<&str> = Vec::new();
    for name in declared.into_iter().map(|p| p.name()) {
        if !accepted.contains(&name) {
            accepted.push(name);
        }
    }
    let accepted = if accepted.is_empty() { "none".to_string() } else { accepted.join(", ") };
    Err(ParamError::Unknown { owner, name: unknown.clone(), accepted })
}

/// Reads an owner's parameters from what was given, each through its declaration, and keeps
/// the values in force in reading order.
pub struct Reader<'g> {
    owner: Owner,
    declared: &'static [&'static dyn ParamInfo],
    given: &'g Given,
    size: Size,
    in_force: Vec<(String, String)>,
    /// Every parameter read, in force or not.
    read: Vec<&'static str>,
}

impl<'g> Reader<'g> {
    /// Refuses names nobody declared; defaults are those of [`Size::Default`] until [`Reader::sized`].
    pub fn new(
        owner: Owner,
        declared: &'static [&'static dyn ParamInfo],
        given: &'g Given,
    ) -> Result<Reader<'g>, ParamError> {
        check_names(owner, declared.iter().copied(), given)?;
        Ok(Reader { owner, declared, given, size: Size::Default, in_force: Vec::new(), read: Vec::new() })
    }

    /// Defaults taken at `size`.
    pub fn sized(self, size: Size) -> Reader<'g> {
        Reader { size, ..self }
    }

    pub fn owner(&self) -> Owner {
        self.owner
    }

    /// The value given for `param`, parsed and checked, or its default.
    pub fn get<K: Kind>(&mut self, param: &Param<K>) -> Result<K::Value, ParamError> {
        debug_assert!(self.declared.iter().any(|p| p.name() == param.name), "`{}` is not declared", param.name);
        debug_assert!(
            param.only_when.is_none_or(|(name, value)| self.value_in_force(name) == Some(value)),
            "`{}` read outside its variant",
            param.name
        );
        let value = match self.given.get(param.name) {
            Some(text) => param.kind.parse(text.trim()).map_err(|reason| self.invalid(param, text, reason))?,
            None => {
                let value = param.default_at(self.size);
                param.kind.check(value).map_err(|reason| self.invalid(param, param.kind.show(value), reason))?;
                value
            }
        };
        self.read.push(param.name);
        if let Some(shown) = param.kind.in_force(value) {
            self.in_force.push((param.name.to_string(), shown));
        }
        Ok(value)
    }

    /// The error for a value of `param` refused by a check across parameters.
    pub fn invalid<K: Kind>(
        &self,
        param: &Param<K>,
        value: impl fmt::Display,
        reason: impl fmt::Display,
    ) -> ParamError {
        ParamError::invalid(self.owner, param.name, value, reason)
    }

    fn value_in_force(&self, name: &str) -> Option<&str> {
        self.in_force.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Refuses a given parameter that was not read (one of another variant); returns every
    /// value in force, `(name, value)` in reading order.
    pub fn finish(self) -> Result<Vec<(String, String)>, ParamError> {
        for (name, text) in self.given {
            if self.read.contains(&name.as_str()) {
                continue;
            }
            let reason = match self.declared.iter().find_map(|p| p.only_when().filter(|_| p.name() == name)) {
                Some((other, value)) => format!("only with {other}={value} (here {other}={})", self.shown(other)),
                None => "not used with these settings".to_string(),
            };
            return Err(ParamError::invalid(self.owner, name, text, reason));
        }
        Ok(self.in_force)
    }

    fn shown(&self, name: &str) -> &str {
        self.value_in_force(name).unwrap_or("?")
    }
}

// ----- kinds --------------------------------------------------------------------------------

/// An unsigned integer type a parameter can have.
pub trait Integer: Copy + Ord + fmt::Display + FromStr<Err = std::num::ParseIntError> + Send + Sync + 'static {
    const MAX: Self;
}

impl Integer for u64 {
    const MAX: u64 = u64::MAX;
}

impl Integer for u32 {
    const MAX: u32 = u32::MAX;
}

impl Integer for usize {
    const MAX: usize = usize::MAX;
}

/// An integer in `min..=max`.
#[derive(Clone, Copy, Debug)]
pub struct Int<T> {
    pub min: T,
    pub max: T,
}

impl<T: Integer> Int<T> {
    pub const fn new(min: T, max: T) -> Int<T> {
        Int { min, max }
    }

    /// From `min` up to the largest value of the type.
    pub const fn at_least(min: T) -> Int<T> {
        Int { min, max: T::MAX }
    }

    fn out_of_range(&self, too_big: bool) -> String {
        if too_big {
            format!("out of range (max {})", self.max)
        } else {
            format!("out of range (at least {})", self.min)
        }
    }
}

impl<T: Integer> Kind for Int<T> {
    type Value = T;

    fn parse(&self, text: &str) -> Result<T, String> {
        let value = text.parse::<T>().map_err(|e| match e.kind() {
            IntErrorKind::PosOverflow => self.out_of_range(true),
            _ if text.strip_prefix('-').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) => {
                self.out_of_range(false)
            }
            _ => format!("expected an integer ({})", self.allowed()),
        })?;
        self.check(value)?;
        Ok(value)
    }

    fn check(&self, value: T) -> Result<(), String> {
        if value < self.min || value > self.max { Err(self.out_of_range(value > self.max)) } else { Ok(()) }
    }

    fn show(&self, value: T) -> String {
        value.to_string()
    }

    fn allowed(&self) -> String {
        if self.max == T::MAX { format!(">= {}", self.min) } else { format!("{}..={}", self.min, self.max) }
    }
}

/// A finite number from `min` to `max` (`max` itself allowed unless `below`); an infinite
/// `max` means no upper bound.
#[derive(Clone, Copy, Debug)]
pub struct Float {
    pub min: f64,
    pub max: f64,
    pub below: bool,
}

impl Float {
    /// `min..=max`.
    pub const fn between(min: f64, max: f64) -> Float {
        Float { min, max, below: false }
    }

    /// `min..max`.
    pub const fn below(min: f64, max: f64) -> Float {
        Float { min, max, below: true }
    }

    pub const fn at_least(min: f64) -> Float {
        Float { min, max: f64::INFINITY, below: false }
    }

    /// A probability or a fraction: `0..=1`.
    pub const PROBABILITY: Float = Float::between(0.0, 1.0);
}

impl Kind for Float {
    type Value = f64;

    fn parse(&self, text: &str) -> Result<f64, String> {
        let value: f64 = text.parse().map_err(|_| format!("expected a number ({})", self.allowed()))?;
        self.check(value)?;
        Ok(value)
    }

    fn check(&self, value: f64) -> Result<(), String> {
        if !value.is_finite() {
            return Err(format!("expected a finite number ({})", self.allowed()));
        }
        let too_big = if self.below { value >= self.max } else { value > self.max };
        match (value < self.min, too_big) {
            (true, _) => Err(format!("out of range (at least {})", self.min)),
            (_, true) if self.below => Err(format!("out of range (below {})", self.max)),
            (_, true) => Err(format!("out of range (max {})", self.max)),
            _ => Ok(()),
        }
    }

    fn show(&self, value: f64) -> String {
        value.to_string()
    }

    fn allowed(&self) -> String {
        match (self.max.is_finite(), self.below) {
            (false, _) => format!(">= {}", self.min),
            (true, true) => format!("{}..{}", self.min, self.max),
            (true, false) => format!("{}..={}", self.min, self.max),
        }
    }
}

/// `true` or `false`.
#[derive(Clone, Copy, Debug)]
pub struct Flag;

impl Kind for Flag {
    type Value = bool;

    fn parse(&self, text: &str) -> Result<bool, String> {
        text.parse().map_err(|_| "expected true or false".to_string())
    }

    fn check(&self, _: bool) -> Result<(), String> {
        Ok(())
    }

    fn show(&self, value: bool) -> String {
        value.to_string()
    }

    fn allowed(&self) -> String {
        "true or false".to_string()
    }
}

/// One of a closed set of names, each standing for a value (an enum's variants).
#[derive(Clone, Copy, Debug)]
pub struct Choice<E: 'static>(pub &'static [(&'static str, E)]);

impl<E: Copy + PartialEq + Sync + 'static> Kind for Choice<E> {
    type Value = E;

    fn parse(&self, text: &str) -> Result<E, String> {
        self.0
            .iter()
            .find(|(name, _)| *name == text)
            .map(|&(_, value)| value)
            .ok_or_else(|| format!("expected {}", self.allowed()))
    }

    fn check(&self, value: E) -> Result<(), String> {
        if self.0.iter().any(|&(_, v)| v == value) { Ok(()) } else { Err("not one of the names".to_string()) }
    }

    fn show(&self, value: E) -> String {
        self.0.iter().find(|&&(_, v)| v == value).map_or("?", |(name, _)| name).to_string()
    }

    fn allowed(&self) -> String {
        let names: Vec<&str> = self.0.iter().map(|(name, _)| *name).collect();
        match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        }
    }
}

/// `N` integers in `min..=max` written with a separator (`700,10,10`, `50:20:20:10`), each
/// labelled for messages, or the name of a preset tuple (`cpython311`).
#[derive(Clone, Copy, Debug)]
pub struct Ints<const N: usize> {
    pub labels: [&'static str; N],
    pub separator: char,
    pub each: Int<u64>,
    pub presets: &'static [(&'static str, [u64; N])],
}

impl<const N: usize> Ints<N> {
    fn expected(&self) -> String {
        let mut text = format!("expected {N} integers {}", self.labels.join(&self.separator.to_string()));
        if !self.presets.is_empty() {
            let names: Vec<&str> = self.presets.iter().map(|(name, _)| *name).collect();
            text += &format!(" or a preset ({})", names.join(", "));
        }
        text
    }
}

impl<const N: usize> Kind for Ints<N> {
    type Value = [u64; N];

    fn parse(&self, text: &str) -> Result<[u64; N], String> {
        if let Some(&(_, values)) = self.presets.iter().find(|(name, _)| *name == text) {
            return Ok(values);
        }
        let parts: Vec<&str> = text.split(self.separator).map(str::trim).collect();
        if parts.len() != N {
            return Err(self.expected());
        }
        let mut values = [0; N];
        for ((slot, part), label) in values.iter_mut().zip(parts).zip(self.labels) {
            if part.is_empty() || !part.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit()) {
                return Err(self.expected());
            }
            *slot = self.each.parse(part).map_err(|reason| format!("{label} {reason}"))?;
        }
        Ok(values)
    }

    fn check(&self, values: [u64; N]) -> Result<(), String> {
        values
            .iter()
            .zip(self.labels)
            .try_for_each(|(&v, label)| self.each.check(v).map_err(|r| format!("{label} {r}")))
    }

    fn show(&self, values: [u64; N]) -> String {
        values.map(|v| v.to_string()).join(&self.separator.to_string())
    }

    fn allowed(&self) -> String {
        let mut text = format!("each {}", self.each.allowed());
        if !self.presets.is_empty() {
            let names: Vec<&str> = self.presets.iter().map(|(name, _)| *name).collect();
            text += &format!("; or {}", names.join(", "));
        }
        text
    }
}

/// A value that may be absent (default `None`), such as an override of another parameter;
/// `absent` says what stands in for it (`from threshold`). Absent, it is left out of the result
/// files.
#[derive(Clone, Copy, Debug)]
pub struct Optional<K> {
    pub inner: K,
    pub absent: &'static str,
}

impl<K: Kind> Kind for Optional<K> {
    type Value = Option<K::Value>;

    fn parse(&self, text: &str) -> Result<Option<K::Value>, String> {
        self.inner.parse(text).map(Some)
    }

    fn check(&self, value: Option<K::Value>) -> Result<(), String> {
        value.map_or(Ok(()), |v| self.inner.check(v))
    }

    fn show(&self, value: Option<K::Value>) -> String {
        value.map_or_else(|| self.absent.to_string(), |v| self.inner.show(v))
    }

    fn allowed(&self) -> String {
        self.inner.allowed()
    }

    fn in_force(&self, value: Option<K::Value>) -> Option<String> {
        value.map(|v| self.inner.show(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWNER: Owner = Owner::strategy("example");

    const EVERY: Param<Int<u64>> =
        Param::new("every", Int::new(1, 1000), Defaults::Fixed(10), "collect every N checkpoints");
    const OPERATIONS: Param<Int<u64>> =
        Param::new("operations", Int::at_least(1), Defaults::BySize([10, 100, 1000, 10_000]), "operations");
    const FRACTION: Param<Float> = Param::new("fraction", Float::PROBABILITY, Defaults::Fixed(0.25), "a fraction");
    const MEAN: Param<Float> = Param::new("mean", Float::below(0.0, 12.0), Defaults::Fixed(0.5), "a mean");
    const FREEZE: Param<Flag> = Param::new("freeze", Flag, Defaults::Fixed(true), "freeze at startup");

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Trigger {
        Thresholds,
        Manual,
    }

    const TRIGGER: Param<Choice<Trigger>> = Param::new(
        "trigger",
        Choice(&[("thresholds", Trigger::Thresholds), ("manual", Trigger::Manual)]),
        Defaults::Fixed(Trigger::Thresholds),
        "when collections run",
    );
    const THRESHOLD: Param<Ints<3>> = Param::new(
        "threshold",
        Ints {
            labels: ["gen0", "gen1", "gen2"],
            separator: ',',
            each: Int::at_least(1),
            presets: &[("cpython311", [700, 10, 10]), ("cpython313", [2000, 10, 10])],
        },
        Defaults::Fixed([700, 10, 10]),
        "generation thresholds",
    )
    .only_when("trigger", "thresholds");

    const THRESHOLD0: Param<Optional<Int<u64>>> = Param::new(
        "threshold0",
        Optional { inner: Int::at_least(1), absent: "from threshold" },
        Defaults::Fixed(None),
        "gen-0 threshold alone",
    );

    const DECLARED: &[&dyn ParamInfo] =
        &[&EVERY, &OPERATIONS, &FRACTION, &MEAN, &FREEZE, &TRIGGER, &THRESHOLD, &THRESHOLD0];

    fn given(pairs: &[(&str, &str)]) -> Given {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// Reads every declared parameter as an owner would; the values in force, or the error.
    fn read(pairs: &[(&str, &str)], size: Size) -> Result<Vec<(String, String)>, String> {
        let given = given(pairs);
        let run = || -> Result<_, ParamError> {
            let mut p = Reader::new(OWNER, DECLARED, &given)?.sized(size);
            p.get(&EVERY)?;
            p.get(&OPERATIONS)?;
            p.get(&FRACTION)?;
            p.get(&MEAN)?;
            p.get(&FREEZE)?;
            if p.get(&TRIGGER)? == Trigger::Thresholds {
                p.get(&THRESHOLD)?;
            }
            p.get(&THRESHOLD0)?;
            p.finish()
        };
        run().map_err(|e| e.to_string())
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        read(pairs, Size::Smoke).expect_err("refused")
    }

    #[test]
    fn defaults_follow_the_size_and_values_in_force_are_listed_in_reading_order() {
        let names_values = |size| read(&[], size).unwrap();
        let smoke = names_values(Size::Smoke);
        assert_eq!(smoke[1], ("operations".to_string(), "10".to_string()));
        assert_eq!(names_values(Size::Large)[1].1, "10000");
        let names: Vec<&str> = smoke.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["every", "operations", "fraction", "mean", "freeze", "trigger", "threshold"]);
        assert_eq!(smoke[6].1, "700,10,10");
        let given = read(&[("threshold", "cpython313"), ("fraction", "1"), ("trigger", "thresholds")], Size::Smoke);
        assert_eq!(given.unwrap()[6].1, "2000,10,10");
    }

    #[test]
    fn integers_name_the_bound_they_break() {
        assert!(
            error(&[("every", "0")])
                .ends_with("strategy `example`: parameter `every` = `0`: out of range (at least 1)")
        );
        assert!(error(&[("every", "1001")]).ends_with("out of range (max 1000)"));
        assert!(error(&[("every", "-3")]).ends_with("out of range (at least 1)"));
        assert!(error(&[("every", "often")]).ends_with("expected an integer (1..=1000)"));
        let huge = error(&[("operations", "99999999999999999999")]);
        assert!(huge.ends_with("out of range (max 18446744073709551615)"), "{huge}");
    }

    #[test]
    fn numbers_are_finite_and_in_range() {
        assert!(error(&[("fraction", "1.5")]).ends_with("out of range (max 1)"));
        assert!(error(&[("fraction", "-0.1")]).ends_with("out of range (at least 0)"));
        assert!(error(&[("fraction", "NaN")]).contains("expected a finite number (0..=1)"));
        assert!(error(&[("mean", "12")]).ends_with("out of range (below 12)"));
        assert_eq!(read(&[("mean", "11.9")], Size::Smoke).unwrap()[3].1, "11.9");
        assert!(error(&[("freeze", "maybe")]).ends_with("expected true or false"));
    }

    #[test]
    fn choices_and_tuples_refuse_what_they_do_not_know() {
        assert!(error(&[("trigger", "sometimes")]).ends_with("expected thresholds or manual"));
        let short = error(&[("threshold", "700,10")]);
        assert!(short.ends_with("expected 3 integers gen0,gen1,gen2 or a preset (cpython311, cpython313)"), "{short}");
        assert!(error(&[("threshold", "0,10,10")]).ends_with("gen0 out of range (at least 1)"));
        let huge = error(&[("threshold", "99999999999999999999,10,10")]);
        assert!(huge.ends_with("gen0 out of range (max 18446744073709551615)"), "{huge}");
    }

    #[test]
    fn an_optional_override_is_in_force_only_when_given() {
        let absent = read(&[], Size::Smoke).unwrap();
        assert!(absent.iter().all(|(name, _)| name != "threshold0"));
        let given = read(&[("threshold0", "100")], Size::Smoke).unwrap();
        assert_eq!(given.last().unwrap(), &("threshold0".to_string(), "100".to_string()));
        assert!(error(&[("threshold0", "0")]).ends_with("`threshold0` = `0`: out of range (at least 1)"));
        let text = options("--param g.", [&THRESHOLD0 as &dyn ParamInfo]);
        assert!(text.contains("threshold0=…  gen-0 threshold alone [default: from threshold] [allowed: >= 1]"));
    }

    #[test]
    fn unknown_and_inapplicable_names_are_refused() {
        let unknown = error(&[("evry", "3")]);
        assert!(unknown.contains("strategy `example` has no parameter `evry` (it accepts: every, operations,"));
        let other_variant = error(&[("trigger", "manual"), ("threshold", "700,10,10")]);
        assert!(other_variant.ends_with("only with trigger=thresholds (here trigger=manual)"), "{other_variant}");
        let none = check_names(OWNER, [], &given(&[("x", "1")])).unwrap_err().to_string();
        assert!(none.ends_with("(it accepts: none)"));
    }

    #[test]
    fn a_default_outside_its_range_is_refused_too() {
        const BAD: Param<Int<u64>> = Param::new("bad", Int::new(1, 5), Defaults::BySize([1, 2, 3, 9]), "");
        static DECLARED: &[&dyn ParamInfo] = &[&BAD];
        let given = Given::new();
        let mut p = Reader::new(OWNER, DECLARED, &given).unwrap().sized(Size::Large);
        assert!(p.get(&BAD).unwrap_err().to_string().ends_with("`bad` = `9`: out of range (max 5)"));
    }

    #[test]
    fn options_list_default_range_and_variant() {
        let text = options("--param example.", DECLARED.iter().copied());
        assert!(text.contains(
            "      --param example.every=…  collect every N checkpoints [default: 10] [allowed: 1..=1000]\n"
        ));
        assert!(text.contains("operations=…  operations [default: 10/100/1000/10000] [allowed: >= 1]\n"));
        assert!(text.contains("mean=…  a mean [default: 0.5] [allowed: 0..12]\n"));
        assert!(text.contains("[allowed: each >= 1; or cpython311, cpython313] [only with trigger=thresholds]\n"));
        assert_eq!(options("--param x.", []), "      (no parameters)\n");
    }
}
