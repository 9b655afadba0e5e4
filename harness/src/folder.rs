//! A run folder written as the run goes, so that a kill loses at most the running cell.
//!
//! 1. **Create** ([`RunWriter::create`]): the folder is made before the first cell runs (an
//!    `--out` that cannot be written is refused there, exit 2, with nothing run), with
//!    `meta.json` (`"complete": false`) and empty `runs.csv`, `pauses.csv`, `memory.csv`,
//!    `cow.csv`.
//! 2. **Append** ([`RunWriter::append`]): when a cell finishes, its pauses, memory samples and
//!    copy-on-write samples are appended, then its `runs.csv` row, each file written in one `write` and flushed. The
//!    `runs.csv` row comes last: a cell is done if and only if its row is there.
//! 3. **Complete** ([`RunWriter::complete`]): every file is rewritten in plan order (the cells
//!    ran in a shuffled order), each through a temporary file and a rename, then `meta.json` is
//!    rewritten with `"complete": true`.
//!
//! **Resume** ([`RunWriter::resume`]) reads an incomplete folder: a last line cut by the kill
//! (a file not ending in a newline, or a row that does not parse) is dropped, and so are the
//! pauses and samples of cells without a `runs.csv` row; the cells still to run are the others.
//! [`read_rows`] is the one reader of result files (merge, resume, report): it refuses a torn
//! row anywhere but at the end, and reports one at the end.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::results::{CowRow, Gathered, MemoryRow, Meta, PauseRow, RunRow, write_json};

pub const RUNS: &str = "runs.csv";
pub const PAUSES: &str = "pauses.csv";
pub const MEMORY: &str = "memory.csv";
/// Copy-on-write samples of prefork workers (a folder written before prefork has none).
pub const COW: &str = "cow.csv";
pub const META: &str = "meta.json";

/// Refuses an `--out` that exists (a dangling symlink included) or whose parent cannot hold a
/// new folder (a file in the path, a read-only mount, `/proc`): checked before anything runs.
pub fn check_out(out: &Path) -> Result<(), String> {
    if out.symlink_metadata().is_ok() {
        return Err(format!("--out {}: already exists; results are never written over", out.display()));
    }
    let parent = parent_of(out);
    let probe = || -> std::io::Result<()> {
        fs::create_dir_all(&parent)?;
        let staging = tempfile::Builder::new().prefix(".harness-probe-").tempdir_in(&parent)?;
        staging.close()
    };
    probe().map_err(|e| format!("--out {}: cannot write there ({e})", out.display()))
}

fn parent_of(path: &Path) -> PathBuf {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
}

/// An open run folder, being filled cell by cell.
pub struct RunWriter {
    path: PathBuf,
    meta: Meta,
}

impl RunWriter {
    /// Makes the folder (it must not exist) with `meta.json` and empty result files.
    pub fn create(path: &Path, meta: Meta) -> Result<RunWriter> {
        fs::create_dir_all(parent_of(path)).with_context(|| format!("creating {}", parent_of(path).display()))?;
        fs::create_dir(path).with_context(|| format!("creating {}", path.display()))?;
        let writer = RunWriter { path: path.to_path_buf(), meta: Meta { complete: false, ..meta } };
        for file in [RUNS, PAUSES, MEMORY, COW] {
            File::create(path.join(file)).with_context(|| format!("creating {}", path.join(file).display()))?;
        }
        replace(&path.join(META), |tmp| write_json(tmp, &writer.meta))?;
        Ok(writer)
    }

    /// Opens an incomplete folder to finish it: drops torn rows and the rows of unfinished
    /// cells, and returns the writer and the cells already done.
    pub fn resume(path: &Path) -> Result<(RunWriter, BTreeSet<usize>)> {
        let meta = read_meta(path)?;
        if meta.complete {
            bail!("{}: the run is complete; nothing to resume", path.display());
        }
        let (runs, _) = read_rows::<RunRow>(&path.join(RUNS))?;
        let done: BTreeSet<usize> = runs.iter().map(|r| r.key.cell).collect();
        let (pauses, _) = read_rows::<PauseRow>(&path.join(PAUSES))?;
        let (memory, _) = read_rows::<MemoryRow>(&path.join(MEMORY))?;
        let cow = read_cow(path)?;
        let writer = RunWriter { path: path.to_path_buf(), meta };
        writer.rewrite(RUNS, &runs)?;
        writer.rewrite(PAUSES, &pauses.into_iter().filter(|p| done.contains(&p.key.cell)).collect::<Vec<_>>())?;
        writer.rewrite(MEMORY, &memory.into_iter().filter(|m| done.contains(&m.key.cell)).collect::<Vec<_>>())?;
        writer.rewrite(COW, &cow.into_iter().filter(|c| done.contains(&c.key.cell)).collect::<Vec<_>>())?;
        Ok((writer, done))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Appends one finished cell: its pauses and samples, then its `runs.csv` row.
    pub fn append(&mut self, run: &RunRow, pauses: &[PauseRow], memory: &[MemoryRow], cow: &[CowRow]) -> Result<()> {
        self.append_rows(PAUSES, pauses)?;
        self.append_rows(MEMORY, memory)?;
        self.append_rows(COW, cow)?;
        self.append_rows(RUNS, std::slice::from_ref(run))
    }

    fn append_rows<T: Serialize>(&self, file: &str, rows: &[T]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let path = self.path.join(file);
        let with_header = fs::metadata(&path).map(|m| m.len() == 0).unwrap_or(true);
        let bytes = csv_bytes(rows, with_header)?;
        let mut out =
            OpenOptions::new().append(true).open(&path).with_context(|| format!("opening {}", path.display()))?;
        out.write_all(&bytes).and_then(|()| out.flush()).with_context(|| format!("appending to {}", path.display()))
    }

    /// Rewrites every file in plan order and marks the folder complete; returns the rows.
    pub fn complete(self) -> Result<Gathered> {
        let gathered = read_folder(&self.path)?;
        self.rewrite(RUNS, &gathered.runs)?;
        self.rewrite(PAUSES, &gathered.pauses)?;
        self.rewrite(MEMORY, &gathered.memory)?;
        self.rewrite(COW, &gathered.cow)?;
        let meta = Meta { complete: true, ..self.meta };
        replace(&self.path.join(META), |tmp| write_json(tmp, &meta))?;
        Ok(gathered)
    }

    fn rewrite<T: Serialize>(&self, file: &str, rows: &[T]) -> Result<()> {
        replace(&self.path.join(file), |tmp| Ok(fs::write(tmp, csv_bytes(rows, true)?)?))
    }
}

/// The rows of a run folder, in plan order (a stable sort: each cell's pauses and samples stay
/// in time order). Torn last lines are dropped.
pub fn read_folder(path: &Path) -> Result<Gathered> {
    let (mut runs, _) = read_rows::<RunRow>(&path.join(RUNS))?;
    let (mut pauses, _) = read_rows::<PauseRow>(&path.join(PAUSES))?;
    let (mut memory, _) = read_rows::<MemoryRow>(&path.join(MEMORY))?;
    runs.sort_by_key(|r| r.key.cell);
    pauses.sort_by_key(|p| p.key.cell);
    let mut cow = read_cow(path)?;
    memory.sort_by_key(|m| m.key.cell);
    cow.sort_by_key(|c| c.key.cell);
    Ok(Gathered { runs, pauses, memory, cow })
}

/// The rows of `cow.csv`; none in a folder written before prefork existed.
pub fn read_cow(path: &Path) -> Result<Vec<CowRow>> {
    let file = path.join(COW);
    if !file.exists() {
        return Ok(Vec::new());
    }
    Ok(read_rows::<CowRow>(&file)?.0)
}

pub fn read_meta(path: &Path) -> Result<Meta> {
    let meta_path = path.join(META);
    let text = fs::read_to_string(&meta_path).with_context(|| format!("{}: not a run folder", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("reading {}", meta_path.display()))
}

/// Rows of one result file, and whether its last row was torn (cut by a kill: the file does not
/// end in a newline, or the last row does not parse) and dropped. The header must be the one
/// `T` writes; rows are then read by position (the keyed rows of `pauses.csv` and `memory.csv`
/// cannot be read by name, see `results::Keyed`). A row that does not parse anywhere else is an
/// error naming the file and the line.
pub fn read_rows<T: DeserializeOwned + Serialize + Default>(path: &Path) -> Result<(Vec<T>, bool)> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if !bytes.contains(&b'\n') {
        // Empty (no rows yet), or cut inside the header of its first rows.
        return Ok((Vec::new(), !bytes.is_empty()));
    }
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let found = reader.headers().with_context(|| format!("reading {}", path.display()))?.clone();
    let expected = header_of::<T>()?;
    if found != expected {
        let column = found.iter().zip(&expected).position(|(f, e)| f != e).unwrap_or(found.len().min(expected.len()));
        bail!(
            "{}: the columns are not the ones this harness writes (a file of another version of the harness?): \
             column {} is {}, expected {} (found {}; expected {})",
            path.display(),
            column + 1,
            found.get(column).map_or("missing".into(), |name| format!("`{name}`")),
            expected.get(column).map_or("none".into(), |name| format!("`{name}`")),
            found.iter().collect::<Vec<_>>().join(","),
            expected.iter().collect::<Vec<_>>().join(",")
        );
    }
    let mut rows = Vec::new();
    let mut records = reader.records().peekable();
    while let Some(record) = records.next() {
        let last = records.peek().is_none();
        let position = match &record {
            Ok(record) => record.position(),
            Err(e) => e.position(),
        };
        let line = position.map_or(0, |p| p.line());
        match record.and_then(|r| r.deserialize::<T>(None)) {
            Ok(row) => rows.push(row),
            Err(_) if last => return Ok((rows, true)),
            Err(e) => bail!("{}: line {line}: {}", path.display(), row_error(&e, &expected)),
        }
    }
    let torn = !bytes.ends_with(b"\n");
    if torn {
        rows.pop();
    }
    Ok((rows, torn))
}

/// Why a row does not parse, naming the column of the field at fault (`column wall_time_ms:
/// invalid float literal`), not its position.
fn row_error(e: &csv::Error, header: &csv::StringRecord) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field().and_then(|i| header.get(i as usize)) {
            Some(name) => format!("column {name}: {}", err.kind()),
            None => err.to_string(),
        },
        _ => e.to_string(),
    }
}

/// The header `T` writes.
fn header_of<T: Serialize + Default>() -> Result<csv::StringRecord> {
    let bytes = csv_bytes(&[T::default()], true)?;
    Ok(csv::Reader::from_reader(bytes.as_slice()).headers()?.clone())
}

fn csv_bytes<T: Serialize>(rows: &[T], with_header: bool) -> Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new().has_headers(with_header).from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Writes `path` through a temporary file beside it and a rename: it is whole, old or new.
fn replace(path: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = path.file_name().context("a file name")?.to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fill(&tmp).and_then(|()| Ok(fs::rename(&tmp, path)?)).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Serialize, serde::Deserialize, PartialEq)]
    struct Row {
        cell: usize,
        note: String,
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("rows.csv");
        fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn a_torn_last_row_is_dropped_and_reported() {
        let (_dir, whole) = file("cell,note\n0,a\n1,\"two\nlines\"\n");
        assert_eq!(read_rows::<Row>(&whole).unwrap().0.len(), 2);
        assert!(!read_rows::<Row>(&whole).unwrap().1);
        for torn in ["cell,note\n0,a\n1,b", "cell,note\n0,a\n1,\"two\nli", "cell,note\n0,a\n1"] {
            let (_dir, path) = file(torn);
            let (rows, was_torn) = read_rows::<Row>(&path).unwrap();
            assert!(was_torn, "{torn:?}");
            assert_eq!(rows, vec![Row { cell: 0, note: "a".into() }], "{torn:?}");
        }
    }

    /// The recorder's records go to the files and come back as the same values, empty fields
    /// (a cascade's generation, an unread RSS) included.
    #[test]
    fn keyed_records_round_trip_through_their_files() {
        use crate::results::{CellKey, Keyed, MemoryRow, PauseRow};
        let dir = tempfile::TempDir::new().unwrap();
        let key =
            CellKey { run_id: "r".into(), cell: 3, workload: "cycles".into(), strategy: "nogc".into(), repeat: 2 };
        let pauses: Vec<PauseRow> = vec![Keyed {
            key: key.clone(),
            record: strategies::Pause {
                kind: strategies::PauseKind::Cascade,
                generation: None,
                objects: 5,
                ..Default::default()
            },
        }];
        let memory: Vec<MemoryRow> = vec![Keyed {
            key,
            record: strategies::MemorySample {
                trigger: strategies::SampleTrigger::Final,
                rss_bytes: None,
                allocator_bytes_used: 7,
                ..Default::default()
            },
        }];
        fs::write(dir.path().join(PAUSES), csv_bytes(&pauses, true).unwrap()).unwrap();
        fs::write(dir.path().join(MEMORY), csv_bytes(&memory, true).unwrap()).unwrap();
        let text = fs::read_to_string(dir.path().join(PAUSES)).unwrap();
        assert!(text.starts_with("run_id,cell,workload,strategy,repeat,kind,generation,start_ns,"), "{text}");
        assert!(text.contains(",cascade,,"), "{text}");
        assert_eq!(read_rows::<PauseRow>(&dir.path().join(PAUSES)).unwrap(), (pauses, false));
        assert_eq!(read_rows::<MemoryRow>(&dir.path().join(MEMORY)).unwrap(), (memory, false));
        let error = read_rows::<MemoryRow>(&dir.path().join(PAUSES)).unwrap_err().to_string();
        assert!(error.contains("not the ones this harness writes"), "{error}");
    }

    /// `cow.csv` rows round-trip like the others; a folder written before prefork has none.
    #[test]
    fn cow_rows_round_trip_and_an_old_folder_has_none() {
        use crate::results::{CellKey, CowRow, Keyed};
        let dir = tempfile::TempDir::new().unwrap();
        assert!(read_cow(dir.path()).unwrap().is_empty());
        let key =
            CellKey { run_id: "r".into(), cell: 1, workload: "requests".into(), strategy: "manual".into(), repeat: 1 };
        let cow: Vec<CowRow> = vec![Keyed {
            key,
            record: strategies::CowSample {
                worker: 1,
                phase: strategies::CowPhase::Collected,
                shared_bytes: 4096,
                ..Default::default()
            },
        }];
        fs::write(dir.path().join(COW), csv_bytes(&cow, true).unwrap()).unwrap();
        let text = fs::read_to_string(dir.path().join(COW)).unwrap();
        assert!(
            text.starts_with("run_id,cell,workload,strategy,repeat,worker,phase,requests_done,rss_bytes,"),
            "{text}"
        );
        assert!(text.contains(",1,collected,"), "{text}");
        assert_eq!(read_cow(dir.path()).unwrap(), cow);
    }

    /// `runs.csv` rows, written as the tuple of their groups and read back by position, come
    /// back field for field (commas, quotes and a line break in text; empty figures); the header
    /// names each column once and starts with the cell key that the per-cell files start with.
    #[test]
    fn run_rows_round_trip_and_their_header_starts_with_the_cell_key() {
        use crate::results::{
            CellKey, CellSetup, Collections, CowFigures, MemoryFigures, Outcome, PauseFigures, RequestFigures, RunRow,
            Status, Times,
        };
        let key = |cell| CellKey {
            run_id: "r".into(),
            cell,
            workload: "requests".into(),
            strategy: "generational".into(),
            repeat: 2,
        };
        let setup = CellSetup {
            size: "smoke".into(),
            seed: 42,
            recording: true,
            allocator: "pymalloc/jemalloc".into(),
            build_profile: "release".into(),
            workload_params: "prefork=true;workers=2".into(),
            strategy_params: "threshold=700,10,10;back-edges=strong".into(),
        };
        let measured = RunRow {
            key: key(0),
            setup: setup.clone(),
            outcome: Outcome { status: Status::Ok, checksum: Some("e856ce05".into()), error: None },
            time: Times { wall_time_ms: Some(15.5), mm_time_ms: Some(0.25), mutator_time_ms: Some(15.25) },
            pauses: PauseFigures {
                pause_count: Some(3),
                pause_p50_us: Some(1.5),
                pause_p99_us: Some(2.5),
                pause_max_us: Some(2.75),
            },
            requests: RequestFigures {
                requests: Some(20),
                request_p50_us: Some(330.5),
                request_p99_us: Some(4513.75),
                request_max_us: Some(4514.0),
            },
            memory: MemoryFigures {
                peak_rss_bytes: Some(10_129_408),
                peak_reserved_bytes: Some(4_195_904),
                leaked_objects: Some(7),
                leaked_bytes: Some(336),
                immortal_objects: Some(0),
                immortal_bytes: Some(0),
            },
            collections: Collections {
                collections_gen0: Some(12),
                collections_gen1: Some(1),
                collections_gen2: Some(0),
            },
            cow: CowFigures { shared_after_serving_bytes: Some(4096), private_after_serving_bytes: Some(8192) },
        };
        let failed = RunRow {
            key: key(1),
            setup,
            outcome: Outcome {
                status: Status::Failed,
                checksum: None,
                error: Some("thread 'main' panicked at \"heap.rs\", 12\nnote: a second line".into()),
            },
            ..RunRow::default()
        };
        let rows = vec![measured, failed];
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join(RUNS);
        fs::write(&path, csv_bytes(&rows, true).unwrap()).unwrap();
        assert_eq!(read_rows::<RunRow>(&path).unwrap(), (rows, false));

        let header = header_of::<RunRow>().unwrap();
        let names: std::collections::BTreeSet<&str> = header.iter().collect();
        assert_eq!(names.len(), header.len(), "a column name twice: {header:?}");
        let key_columns = header_of::<CellKey>().unwrap();
        assert_eq!(header.iter().take(key_columns.len()).collect::<Vec<_>>(), key_columns.iter().collect::<Vec<_>>());
        assert_eq!(header.len(), 37, "a column added or dropped: document it in results/README.md");
    }

    #[test]
    fn a_bad_row_in_the_middle_is_an_error() {
        let (_dir, path) = file("cell,note\n0,a\nx,b\n2,c\n");
        let error = read_rows::<Row>(&path).unwrap_err().to_string();
        assert!(error.contains("line 3: column cell: "), "the line and the column by name: {error}");
    }

    /// A header of another version (the same names in another order, one missing) names the
    /// first column that differs.
    #[test]
    fn other_columns_are_refused_naming_the_first_that_differs() {
        let (_dir, path) = file("note,cell\na,0\n");
        let error = read_rows::<Row>(&path).unwrap_err().to_string();
        assert!(error.contains("another version of the harness?): column 1 is `note`, expected `cell`"), "{error}");
        let (_dir, path) = file("cell\n0\n");
        let error = read_rows::<Row>(&path).unwrap_err().to_string();
        assert!(error.contains("column 2 is missing, expected `note`"), "{error}");
    }

    #[test]
    fn an_out_that_cannot_be_written_is_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let a_file = dir.path().join("file");
        fs::write(&a_file, "").unwrap();
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &dangling).unwrap();
        for bad in [a_file.join("run"), dangling, PathBuf::from("/proc/harness-run"), a_file] {
            assert!(check_out(&bad).is_err(), "{}", bad.display());
        }
        assert!(check_out(&dir.path().join("new/run")).is_ok());
    }
}
