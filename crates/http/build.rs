//! Embeds the console: lists the files Vite built into `console-dist/` (committed, so that
//! building the server never needs Node.js) as a table of paths and `include_bytes!`, which
//! `routes/console.rs` serves.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs, io};

fn files(dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files(&path, found)?;
        } else {
            found.push(path);
        }
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let root =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let dist = root.join("console-dist");
    println!("cargo::rerun-if-changed=console-dist");
    let mut found = Vec::new();
    files(&dist, &mut found)?;
    found.sort();
    let mut table = String::from("&[\n");
    for path in &found {
        let relative = path
            .strip_prefix(&dist)
            .expect("found under console-dist")
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        writeln!(
            table,
            "    ({:?}, include_bytes!({:?}) as &[u8]),",
            format!("/{relative}"),
            path.display().to_string()
        )
        .expect("writing to a string");
    }
    table.push(']');
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("console_files.rs"), table)
}
