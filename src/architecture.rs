//! The architecture invariants of ARCHITECTURE.md that a grep can hold, checked on
//! every test run so the map cannot quietly drift from the code.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir` (relative to the workspace root), recursively.
fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    let mut stack = vec![root.join(dir)];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with(file!()) {
            let text = std::fs::read_to_string(&path).unwrap();
            found.push((path.strip_prefix(root).unwrap().to_path_buf(), text));
        }
    }
    assert!(!found.is_empty(), "no sources under {dir}");
    found
}

/// The files under `dir` whose code (not comments) mentions `needle`.
fn mentioning(dir: &str, needle: &str) -> Vec<String> {
    sources(dir)
        .into_iter()
        .filter(|(_, text)| {
            text.lines()
                .map(str::trim_start)
                .filter(|l| !l.starts_with("//"))
                .any(|l| l.contains(needle))
        })
        .map(|(path, _)| path.display().to_string())
        .collect()
}

#[test]
fn the_web_never_imports_the_command_line() {
    assert_eq!(
        mentioning("src/web", "crate::commands"),
        Vec::<String>::new()
    );
    assert_eq!(mentioning("src/web", "crate::cli"), Vec::<String>::new());
}

/// To serve it, and to manage the accounts that sign in to it.
#[test]
fn the_command_line_imports_the_web_only_to_serve() {
    let mut users = mentioning("src/commands", "crate::web");
    users.extend(mentioning("src/cli.rs", "crate::web"));
    users.sort();
    assert_eq!(
        users,
        vec![
            "src/commands/accounts.rs".to_owned(),
            "src/commands/serve.rs".to_owned()
        ]
    );
}

#[test]
fn the_application_layer_imports_no_front_end() {
    for front in [
        "crate::web",
        "crate::commands",
        "crate::cli",
        "axum",
        "clap",
    ] {
        assert_eq!(
            mentioning("src/app", front),
            Vec::<String>::new(),
            "{front}"
        );
    }
}

#[test]
fn projections_does_no_io_and_reads_no_clock() {
    for needle in [
        "std::fs",
        "std::net",
        "std::env",
        "SystemTime",
        "Utc::now",
        "Local::now",
        "getrandom",
        "tokio",
    ] {
        assert_eq!(
            mentioning("projections/src", needle),
            Vec::<String>::new(),
            "{needle}"
        );
    }
}

#[test]
fn only_the_store_touches_sled() {
    assert_eq!(mentioning("src", "sled"), Vec::<String>::new());
    assert_eq!(mentioning("projections/src", "sled"), Vec::<String>::new());
    assert_eq!(
        mentioning("ledger/src", "sled::"),
        vec!["ledger/src/storage.rs".to_owned()]
    );
}

#[test]
fn the_verification_side_imports_no_storage() {
    for needle in [
        "crate::storage",
        "crate::ledger",
        "crate::settling",
        "crate::syncer",
        "crate::wal",
        "crate::chunks",
        "crate::tree",
        "crate::index",
        "crate::faults",
        "crate::blobs",
        "Ledger",
        "sled",
    ] {
        // Its tests may write a bundle through the ledger to check it.
        let code: Vec<String> = mentioning("ledger/src/proof", needle)
            .into_iter()
            .filter(|path| !path.ends_with("tests.rs"))
            .collect();
        assert_eq!(code, Vec::<String>::new(), "{needle}");
    }
}

#[test]
fn only_the_binary_depends_on_clap_tokio_and_http() {
    for manifest in ["ledger/Cargo.toml", "projections/Cargo.toml"] {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(manifest)).unwrap();
        for dependency in ["clap", "tokio", "axum", "hyper", "maud"] {
            assert!(
                !text.lines().any(|l| l.trim_start().starts_with(dependency)),
                "{manifest} depends on {dependency}"
            );
        }
    }
}

#[test]
fn every_event_hash_comes_from_the_header() {
    assert_eq!(mentioning("src", "leaf_bytes"), Vec::<String>::new());
    assert_eq!(
        mentioning("projections/src", "leaf_bytes"),
        Vec::<String>::new()
    );
}

#[test]
fn no_source_file_is_over_700_lines() {
    let mut long = Vec::new();
    for dir in ["src", "ledger/src", "projections/src"] {
        for (path, text) in sources(dir) {
            let tests = path.file_name().is_some_and(|n| n == "tests.rs");
            let lines = text.lines().count();
            if !tests && lines > 700 {
                long.push(format!("{} ({lines} lines)", path.display()));
            }
        }
    }
    assert_eq!(long, Vec::<String>::new(), "split these by what they do");
}
