//! `harness experiment FILE.toml | NAME`: a declared set of runs — workloads × strategies ×
//! parameter sweeps × repeats — checked whole before anything runs.
//!
//! ```toml
//! name = "instagram"
//! description = "generational against manual (with and without freeze) against refcount"
//! seed = 42                # seeds the workloads and the cell order
//! size = "default"         # a size preset of every workload
//! repeat = 3
//! workloads = ["requests"]
//! strategies = ["generational", "manual", "refcount"]
//!
//! [workload_params.requests]   # fixed parameters, per workload or strategy (optional)
//! long-lived = 300000
//!
//! [[sweep]]                    # one axis; the run crosses every axis that applies to a cell
//! param = "manual.freeze"      # `<strategy>.<param>` or `<workload>.<param>`
//! values = [true, false]
//! ```
//!
//! An axis over a strategy's parameter multiplies that strategy's cells only; an axis over a
//! workload's parameter multiplies that workload's cells. Bad input (TOML syntax, an unknown
//! key, an unknown name, an impossible value) is refused with `file:line:col`, the field and exit
//! code 2, before any cell runs and before any folder is made. The built-in experiments live in
//! `harness/experiments/` and are compiled into the binary.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;

use serde::Deserialize;
use strategies::strategy;
use toml::Spanned;
use workloads::{Size, WorkloadArgs};

use crate::cli::{ExperimentArgs, Limits, refuse};
use crate::folder;
use crate::plan::{self, CellSettings, Params, Plan, number_cells};

/// The built-in experiments: name and TOML text.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("thresholds", include_str!("../experiments/thresholds.toml")),
    ("instagram", include_str!("../experiments/instagram.toml")),
    ("pauses", include_str!("../experiments/pauses.toml")),
    ("collectors", include_str!("../experiments/collectors.toml")),
];

/// A parameter value as TOML writes it: a string, an integer, a float or a boolean.
#[derive(Debug, Clone)]
enum Value {
    Bool(bool),
    Integer(i64),
    Float(f64),
    Text(String),
}

/// By hand rather than `#[serde(untagged)]`, whose errors name serde's internals ("untagged
/// enum Value", "i128") instead of what a value may be.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Value;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, an integer (up to 2^63 - 1), a float or a boolean")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Integer(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
                i64::try_from(v)
                    .map(Value::Integer)
                    .map_err(|_| E::custom(format!("integer {v} is out of range (at most 2^63 - 1)")))
            }
            fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Value, E> {
                i64::try_from(v)
                    .map(Value::Integer)
                    .map_err(|_| E::custom(format!("integer {v} is out of range (at most 2^63 - 1)")))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
                i64::try_from(v)
                    .map(Value::Integer)
                    .map_err(|_| E::custom(format!("integer {v} is out of range (at most 2^63 - 1)")))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Text(v.into()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => write!(f, "{s}"),
        }
    }
}

type ParamTable = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, Spanned<Value>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExperimentFile {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    /// The published result the experiment reproduces: the claim, its source and figure. The
    /// report prints it beside what was measured.
    #[serde(default)]
    reproduces: Option<String>,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default)]
    size: Option<Spanned<String>>,
    #[serde(default = "default_repeat")]
    repeat: Spanned<i64>,
    workloads: Vec<Spanned<String>>,
    strategies: Vec<Spanned<String>>,
    #[serde(default)]
    workload_params: ParamTable,
    #[serde(default)]
    strategy_params: ParamTable,
    #[serde(default)]
    sweep: Vec<Axis>,
    #[serde(default = "default_allocator")]
    allocator: Spanned<String>,
    #[serde(default = "default_backend")]
    backend: Spanned<String>,
    #[serde(default = "default_cascade_threshold")]
    cascade_threshold: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Axis {
    param: Spanned<String>,
    values: Spanned<Vec<Spanned<Value>>>,
}

fn default_seed() -> u64 {
    42
}
fn default_repeat() -> Spanned<i64> {
    Spanned::new(0..0, i64::from(plan::DEFAULT_REPEAT))
}
fn default_allocator() -> Spanned<String> {
    Spanned::new(0..0, "pymalloc".into())
}
fn default_backend() -> Spanned<String> {
    Spanned::new(0..0, "jemalloc".into())
}
fn default_cascade_threshold() -> Spanned<i64> {
    Spanned::new(0..0, 1000)
}

/// Where the text came from, for error messages.
struct Source<'a> {
    name: String,
    text: &'a str,
}

impl Source<'_> {
    /// `file:line:col: message`, the position being the start of `span`.
    fn error(&self, span: Range<usize>, message: impl std::fmt::Display) -> String {
        let before = &self.text[..span.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!("{}:{line}:{column}: {message}", self.name)
    }
}

/// `harness experiment --list`.
pub fn listing() -> String {
    let mut out = String::from("Built-in experiments (run one with `harness experiment NAME`):\n");
    for (name, text) in BUILT_IN {
        let description = toml::from_str::<ExperimentFile>(text).map(|e| e.description).unwrap_or_default();
        out += &format!("  {name:<12} {description}\n");
    }
    out
}

/// Reads the experiment (a built-in name or a file) and builds its plan; refuses (exit 2) on
/// any problem.
pub fn plan(args: &ExperimentArgs) -> Plan {
    let target =
        args.experiment.as_deref().unwrap_or_else(|| refuse("name an experiment file or a built-in (see --list)"));
    let (name, text) = match BUILT_IN.iter().find(|(name, _)| *name == target) {
        Some((name, text)) => (format!("{name} (built in)"), text.to_string()),
        None => {
            let path = PathBuf::from(target);
            if !path.exists() {
                let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                refuse(format!(
                    "{target}: no such file, and no built-in experiment of that name (built in: {})",
                    names.join(", ")
                ));
            }
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| refuse(format!("{}: {e}", path.display())));
            (path.display().to_string(), text)
        }
    };
    let source = Source { name, text: &text };
    plan_from(&source, args).unwrap_or_else(|e| refuse(e))
}

/// The plan of an experiment file: parse, check the settings, names and values, then cross
/// the workloads, strategies and sweeps into cells.
fn plan_from(source: &Source<'_>, args: &ExperimentArgs) -> Result<Plan, String> {
    let file = parse(source)?;
    check_name(source, &file.name)?;
    let limits = args.runner.limits();
    let settings = settings(source, &file, args, &limits)?;
    check_names(source, &file)?;
    let size = Size::from_name(&settings.size).expect("checked in settings");
    check_values(source, &file, size, settings.seed)?;
    let combinations = combinations(source, &file)?;
    plan::check_size(combinations.len() * settings.cells_per_combination(), limits.max_cells)?;
    let mut specs = Vec::new();
    for (workload, workload_params, strategy, strategy_params) in &combinations {
        check_combination(source, workload, workload_params, strategy, strategy_params, size, settings.seed)?;
        specs.extend(settings.cells(workload.get_ref(), workload_params, strategy.get_ref(), strategy_params));
    }
    if let Some(out) = &args.out {
        folder::check_out(out)?;
    }
    let (cells, plan_cells, plan_digest) = number_cells(specs, limits.shard)?;
    Ok(Plan {
        cells,
        plan_cells,
        plan_digest,
        shard: limits.shard,
        seed: settings.seed,
        timeout: limits.timeout,
        experiment: file.name.get_ref().clone(),
        reproduces: file.reproduces.clone(),
        out: args.out.clone(),
        warmup: limits.warmup,
    })
}

fn parse(source: &Source<'_>) -> Result<ExperimentFile, String> {
    toml::from_str(source.text).map_err(|e| {
        let message = e.message().to_string();
        match e.span() {
            Some(span) => source.error(span, message),
            None => format!("{}: {message}", source.name),
        }
    })
}

/// The name becomes part of the run id and of the default folder's name: letters, digits, `-`,
/// `_` and `.`, not starting with a dot, never a path.
fn check_name(source: &Source<'_>, name: &Spanned<String>) -> Result<(), String> {
    let text = name.get_ref();
    let valid = !text.is_empty()
        && text.len() <= 64
        && !text.starts_with('.')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if valid {
        Ok(())
    } else {
        Err(source.error(
            name.span(),
            format!("name `{text}`: expected 1 to 64 letters, digits, `-`, `_` or `.`, not starting with `.` (it names the run folder)"),
        ))
    }
}

/// What every cell shares: the file's settings, overridden by the command line.
fn settings(
    source: &Source<'_>,
    file: &ExperimentFile,
    args: &ExperimentArgs,
    limits: &Limits,
) -> Result<CellSettings, String> {
    let size = match (&args.size, &file.size) {
        (Some(size), _) => size.clone(),
        (None, Some(size)) => {
            Size::from_name(size.get_ref()).ok_or_else(|| {
                source.error(size.span(), format!("size `{}`: expected smoke, small, default or large", size.get_ref()))
            })?;
            size.get_ref().clone()
        }
        (None, None) => "default".into(),
    };
    let repeats = match args.runner.repeat() {
        Some(repeat) => repeat,
        None => u32::try_from(*file.repeat.get_ref()).ok().filter(|r| (1..=plan::MAX_REPEAT).contains(r)).ok_or_else(
            || source.error(file.repeat.span(), format!("repeat: expected an integer from 1 to {}", plan::MAX_REPEAT)),
        )?,
    };
    let cascade_threshold = u64::try_from(*file.cascade_threshold.get_ref())
        .ok()
        .filter(|t| *t >= 1)
        .ok_or_else(|| source.error(file.cascade_threshold.span(), "cascade_threshold: expected at least 1 object"))?;
    if strategies::AllocatorKind::from_name(file.allocator.get_ref()).is_none() {
        let valid: Vec<&str> = strategies::AllocatorKind::ALL.iter().map(|(n, _)| *n).collect();
        return Err(source.error(
            file.allocator.span(),
            format!("allocator `{}` is unknown (valid: {})", file.allocator.get_ref(), valid.join(", ")),
        ));
    }
    if strategies::SystemBackend::from_name(file.backend.get_ref()).is_none() {
        let valid: Vec<&str> = strategies::SystemBackend::ALL.iter().map(|b| b.name()).collect();
        return Err(source.error(
            file.backend.span(),
            format!("backend `{}` is unknown (valid: {})", file.backend.get_ref(), valid.join(", ")),
        ));
    }
    Ok(CellSettings {
        size,
        seed: args.seed.unwrap_or(file.seed),
        allocator: file.allocator.get_ref().clone(),
        backend: file.backend.get_ref().clone(),
        cascade_threshold,
        max_heap_bytes: limits.max_heap_bytes,
        sample_every: limits.sample_every,
        repeats,
        recordings: limits.recordings.clone(),
    })
}

/// One workload × strategy × parameter set of the experiment.
type Combination<'f> = (&'f Spanned<String>, Params, &'f Spanned<String>, Params);

/// Every workload × strategy pair crossed with the sweeps that apply to it, in file order.
fn combinations<'f>(source: &Source<'_>, file: &'f ExperimentFile) -> Result<Vec<Combination<'f>>, String> {
    let mut all = Vec::new();
    for workload in &file.workloads {
        for strategy in &file.strategies {
            for (workload_params, strategy_params) in crossed(source, file, workload.get_ref(), strategy.get_ref())? {
                all.push((workload, workload_params, strategy, strategy_params));
            }
        }
    }
    Ok(all)
}

/// The workload and the strategy accept this combination of parameters together.
fn check_combination(
    source: &Source<'_>,
    workload: &Spanned<String>,
    workload_params: &Params,
    strategy: &Spanned<String>,
    strategy_params: &Params,
    size: Size,
    seed: u64,
) -> Result<(), String> {
    let args = WorkloadArgs { size, seed, params: workload_params.clone() };
    workloads::find(workload.get_ref()).expect("checked").build(&args).map_err(|e| source.error(workload.span(), e))?;
    strategy::find(strategy.get_ref())
        .expect("checked")
        .build(strategy_params)
        .map_err(|e| source.error(strategy.span(), e))?;
    Ok(())
}

/// Every workload and strategy named in the file exists and is named once; every parameter
/// table and sweep axis names a selected one (as the command line requires); no axis and no
/// value of an axis is given twice (it would become a fake repeat).
fn check_names(source: &Source<'_>, file: &ExperimentFile) -> Result<(), String> {
    if file.workloads.is_empty() || file.strategies.is_empty() {
        return Err(format!("{}: `workloads` and `strategies` each need at least one name", source.name));
    }
    check_list(source, "workloads", "workload", &file.workloads, &workloads::names())?;
    check_list(source, "strategies", "strategy", &file.strategies, &strategy::names())?;
    let selected = |names: &[Spanned<String>]| names.iter().map(|n| n.get_ref().clone()).collect::<Vec<_>>();
    let (workloads_selected, strategies_selected) = (selected(&file.workloads), selected(&file.strategies));
    for (table, field, valid) in [
        (&file.workload_params, "workload_params", &workloads_selected),
        (&file.strategy_params, "strategy_params", &strategies_selected),
    ] {
        if let Some(key) = table.keys().find(|k| !valid.contains(k.get_ref())) {
            return Err(source.error(
                key.span(),
                format!(
                    "{field}: `{}` is not selected in this experiment (selected: {})",
                    key.get_ref(),
                    valid.join(", ")
                ),
            ));
        }
    }
    let mut axes: Vec<&str> = Vec::new();
    for axis in &file.sweep {
        let (owner, _) = split_axis(source, &axis.param)?;
        if !workloads_selected.iter().chain(&strategies_selected).any(|s| s == owner) {
            return Err(source.error(
                axis.param.span(),
                format!(
                    "sweep param `{}`: `{owner}` is not a selected workload or strategy (selected: {})",
                    axis.param.get_ref(),
                    workloads_selected.iter().chain(&strategies_selected).cloned().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        if axes.contains(&axis.param.get_ref().as_str()) {
            return Err(
                source.error(axis.param.span(), format!("sweep param `{}` is swept twice", axis.param.get_ref()))
            );
        }
        axes.push(axis.param.get_ref());
        if axis.values.get_ref().is_empty() {
            return Err(source.error(axis.values.span(), "sweep values: need at least one value"));
        }
        let mut seen: Vec<String> = Vec::new();
        for value in axis.values.get_ref() {
            let text = value.get_ref().to_string();
            if seen.contains(&text) {
                return Err(source.error(
                    value.span(),
                    format!("sweep values of `{}`: {text} is given twice", axis.param.get_ref()),
                ));
            }
            seen.push(text);
        }
    }
    Ok(())
}

/// Each name of `list` is one of `valid`, and appears once.
fn check_list(
    source: &Source<'_>,
    field: &str,
    what: &str,
    list: &[Spanned<String>],
    valid: &[&str],
) -> Result<(), String> {
    for (i, name) in list.iter().enumerate() {
        if !valid.contains(&name.get_ref().as_str()) {
            return Err(source.error(
                name.span(),
                format!("{field}: unknown {what} `{}` (valid: {})", name.get_ref(), valid.join(", ")),
            ));
        }
        if list[..i].iter().any(|n| n.get_ref() == name.get_ref()) {
            return Err(source.error(name.span(), format!("{field}: `{}` is listed twice", name.get_ref())));
        }
    }
    Ok(())
}

/// Every fixed parameter and every sweep value, tried alone on its owner, so that an impossible
/// value is reported where it is written.
fn check_values(source: &Source<'_>, file: &ExperimentFile, size: Size, seed: u64) -> Result<(), String> {
    let try_value = |owner: &str, name: &str, value: &Spanned<Value>| -> Result<(), String> {
        let params: BTreeMap<String, String> = [(name.to_string(), value.get_ref().to_string())].into();
        let result = match (workloads::find(owner), strategy::find(owner)) {
            (Some(workload), _) => {
                workload.build(&WorkloadArgs { size, seed, params }).map(drop).map_err(|e| e.to_string())
            }
            (None, Some(strategy)) => strategy.build(&params).map(drop).map_err(|e| e.to_string()),
            (None, None) => Ok(()),
        };
        result.map_err(|e| source.error(value.span(), e))
    };
    for table in [&file.workload_params, &file.strategy_params] {
        for (owner, params) in table {
            for (name, value) in params {
                try_value(owner.get_ref(), name.get_ref(), value)?;
            }
        }
    }
    for axis in &file.sweep {
        let (owner, name) = split_axis(source, &axis.param)?;
        for value in axis.values.get_ref() {
            try_value(owner, name, value)?;
        }
    }
    Ok(())
}

fn split_axis<'a>(source: &Source<'_>, param: &'a Spanned<String>) -> Result<(&'a str, &'a str), String> {
    param.get_ref().split_once('.').filter(|(owner, name)| !owner.is_empty() && !name.is_empty()).ok_or_else(|| {
        source.error(
            param.span(),
            format!("sweep param `{}`: expected `<strategy>.<param>` or `<workload>.<param>`", param.get_ref()),
        )
    })
}

/// The parameter sets of one workload × strategy pair: its fixed parameters crossed with every
/// sweep axis that applies to it.
fn crossed(
    source: &Source<'_>,
    file: &ExperimentFile,
    workload: &str,
    strategy: &str,
) -> Result<Vec<(Params, Params)>, String> {
    let fixed = |table: &ParamTable, owner: &str| -> BTreeMap<String, String> {
        table
            .iter()
            .filter(|(k, _)| k.get_ref() == owner)
            .flat_map(|(_, params)| params.iter().map(|(k, v)| (k.get_ref().clone(), v.get_ref().to_string())))
            .collect()
    };
    let mut sets = vec![(fixed(&file.workload_params, workload), fixed(&file.strategy_params, strategy))];
    for axis in &file.sweep {
        let (owner, name) = split_axis(source, &axis.param)?;
        let for_workload = owner == workload;
        if !for_workload && owner != strategy {
            continue;
        }
        sets = sets
            .into_iter()
            .flat_map(|(w, s)| {
                axis.values.get_ref().iter().map(move |value| {
                    let (mut w, mut s) = (w.clone(), s.clone());
                    let target = if for_workload { &mut w } else { &mut s };
                    target.insert(name.to_string(), value.get_ref().to_string());
                    (w, s)
                })
            })
            .collect();
    }
    Ok(sets)
}

/// The text of a built-in experiment, for tests and `--list`.
#[cfg(test)]
fn built_in(name: &str) -> &'static str {
    BUILT_IN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).expect("a built-in")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(extra: &[&str]) -> ExperimentArgs {
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: ExperimentArgs,
        }
        let mut argv = vec!["experiment", "x.toml"];
        argv.extend_from_slice(extra);
        Wrapper::parse_from(argv).args
    }

    fn plan_of(text: &str) -> Result<Plan, String> {
        plan_from(&Source { name: "x.toml".into(), text }, &args(&[]))
    }

    #[test]
    fn every_built_in_experiment_plans() {
        for (name, text) in BUILT_IN {
            let plan = plan_of(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!plan.cells.is_empty(), "{name}");
            assert_eq!(plan.experiment, *name);
        }
    }

    #[test]
    fn the_instagram_experiment_forks_workers_under_every_configuration() {
        let plan = plan_of(built_in("instagram")).unwrap();
        let repeats = plan.cells.iter().map(|c| c.spec.repeat).max().unwrap() as usize;
        // touch off and on × immortal off and on, and for generational × freeze off and on.
        for (strategy, configurations) in [("generational", 8), ("manual", 4), ("refcount", 4)] {
            let cells: Vec<_> = plan.cells.iter().filter(|c| c.spec.strategy == strategy).collect();
            assert_eq!(cells.len(), configurations * repeats, "{strategy}: touch, immortal (and freeze) off and on");
            assert!(cells.iter().all(|c| c.spec.workload_params.get("prefork").map(String::as_str) == Some("true")));
        }
    }

    #[test]
    fn errors_point_at_the_line_and_column() {
        let error = |text: &str| plan_of(text).unwrap_err();
        let base = "name = \"t\"\nworkloads = [\"cycles\"]\nstrategies = [\"generational\"]\n";
        assert!(
            error("name = \"t\"\nworkloads = [\"cycles\"\n").starts_with("x.toml:2:"),
            "{}",
            error("name = \"t\"\nworkloads = [\"cycles\"\n")
        );
        let unknown_key = error(&format!("{base}colour = 3\n"));
        assert!(unknown_key.starts_with("x.toml:4:1:") && unknown_key.contains("colour"), "{unknown_key}");
        let unknown_workload = error("name = \"t\"\nworkloads = [\"forest\"]\nstrategies = [\"refcount\"]\n");
        assert!(
            unknown_workload.starts_with("x.toml:2:14:") && unknown_workload.contains("unknown workload `forest`"),
            "{unknown_workload}"
        );
        let zero = error(&format!("{base}[[sweep]]\nparam = \"generational.threshold0\"\nvalues = [700, 0]\n"));
        assert!(zero.starts_with("x.toml:6:16:") && zero.contains("at least 1"), "{zero}");
        let bad_param = error(&format!("{base}[strategy_params.generational]\nevery = 3\n"));
        assert!(bad_param.starts_with("x.toml:5:9:") && bad_param.contains("has no parameter `every`"), "{bad_param}");
        let bad_size = error(&format!("{base}size = \"huge\"\n"));
        assert!(bad_size.starts_with("x.toml:4:8:"), "{bad_size}");
        let zero_size = error(&format!("{base}[workload_params.cycles]\nrings = -1\n"));
        assert!(zero_size.contains("`rings` = `-1`"), "{zero_size}");
    }

    /// Issue 12, item 8: each built-in states what it reproduces (instagram's file is being
    /// rewritten elsewhere and will say it there).
    #[test]
    fn built_in_experiments_say_what_they_reproduce() {
        for (name, text) in BUILT_IN.iter().filter(|(name, _)| *name != "instagram") {
            let file: ExperimentFile = toml::from_str(text).unwrap();
            let reproduces = file.reproduces.unwrap_or_default();
            assert!(reproduces.len() > 80, "{name}: `reproduces` names the source and figure: {reproduces:?}");
        }
    }

    #[test]
    fn a_sweep_over_a_workload_parameter_multiplies_its_cells() {
        let text = "name = \"t\"\nworkloads = [\"cycles\", \"trees\"]\nstrategies = [\"refcount\", \"generational\"]\n\
                    [[sweep]]\nparam = \"cycles.ring-size\"\nvalues = [2, 5, 21]\n\
                    [[sweep]]\nparam = \"generational.threshold0\"\nvalues = [100, 1000]\n";
        let plan = plan_of(text).unwrap();
        // cycles: refcount 3 + generational 3×2; trees: refcount 1 + generational 2; each of
        // them repeated DEFAULT_REPEAT times.
        assert_eq!(plan.cells.len(), (3 + 6 + 1 + 2) * plan::DEFAULT_REPEAT as usize);
    }
}
