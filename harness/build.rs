//! Records the compiler version and cargo profile in the binary, for `meta.json` (the machine that runs the
//! harness may have no `rustc` on its PATH), and embeds the Python twins of the workloads, so
//! that `harness validate` works from the binary alone.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=HARNESS_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
    // `release` for the release and bench profiles, `debug` for dev and test (cargo's PROFILE).
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=HARNESS_CARGO_PROFILE={profile}");
    embed_twins();
}

/// Writes `$OUT_DIR/twins.rs`: `TWIN_FILES`, every `*.py` of `workloads/python` as
/// `(file name, contents)`, sorted by name.
fn embed_twins() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads/python").canonicalize().expect("workloads/python");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("reading workloads/python")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
        .collect();
    files.sort();
    let mut code = String::from("pub static TWIN_FILES: &[(&str, &str)] = &[\n");
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_string_lossy();
        writeln!(code, "    ({name:?}, include_str!({:?})),", path.display().to_string()).unwrap();
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("twins.rs");
    std::fs::write(out, code).expect("writing twins.rs");
}
