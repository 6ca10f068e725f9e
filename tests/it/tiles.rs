//! The log as C2SP tlog-tiles: `assure tiles --out DIR` and the service's `/log/`
//! serve the same bytes, updates write only what is new, `--check` repairs an altered
//! file, and nothing past the latest checkpoint is published. (The tiles read by an independent tlog implementation:
//! `ledger/tests/tiles_interop.rs`.)

use std::path::Path;

use assure::web::accounts::Role;

use crate::support::server::Server;
use crate::support::Ledger;

fn files(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap();
                found.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn the_tiles_command_writes_a_publication_and_updates_only_what_is_new() {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let out = ledger.dir.path().join("published");
    let out_arg = out.to_string_lossy().into_owned();
    let first = ledger.run(&["tiles", "--out", &out_arg]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("C2SP tlog-tiles"), "{}", first.stdout);
    // Under 256 events: one partial level-0 tile, its entries and the checkpoint.
    let listed = files(&out);
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(listed.iter().any(|f| f.starts_with("tile/0/000.p/")));
    assert!(listed.iter().any(|f| f.starts_with("tile/entries/000.p/")));
    let checkpoint = std::fs::read_to_string(out.join("checkpoint")).unwrap();
    let list = ledger.run(&["checkpoints"]);
    assert!(list.code == 0 && !checkpoint.is_empty());

    // Running it again without new events writes nothing but the checkpoint.
    let again = ledger.run(&["tiles", "--out", &out_arg]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(files(&out), listed);
    assert_eq!(
        std::fs::read_to_string(out.join("checkpoint")).unwrap(),
        checkpoint
    );

    // A file altered on the host: --check puts the log's bytes back and says so.
    let tile = out.join(listed.iter().find(|f| f.starts_with("tile/0/")).unwrap());
    let good = std::fs::read(&tile).unwrap();
    let mut altered = good.clone();
    altered[0] ^= 0xff;
    std::fs::write(&tile, &altered).unwrap();
    let checked = ledger.run(&["tiles", "--out", &out_arg, "--check"]);
    assert_eq!(checked.code, 0, "{checked:?}");
    assert!(
        checked
            .stdout
            .contains("1 file(s) in the folder had bytes that were not the log's"),
        "{}",
        checked.stdout
    );
    assert_eq!(std::fs::read(&tile).unwrap(), good);
}

#[test]
fn the_service_serves_the_same_bytes_under_log() {
    let server = Server::start();
    let out = tempfile::tempdir().unwrap();
    {
        let ledger = server.state().shared.ledger();
        let latest = ledger
            .latest_checkpoint()
            .unwrap()
            .expect("the demo signs one");
        ledger.write_tiles(out.path(), &latest).unwrap();
    }
    let published = files(out.path());
    assert!(published.len() >= 3, "{published:?}");
    for file in &published {
        let reply = server.send("GET", &format!("/log/{file}"), &[], b"");
        assert_eq!(reply.status, 200, "/log/{file}");
        let expected = std::fs::read(out.path().join(file)).unwrap();
        assert_eq!(reply.bytes, expected, "/log/{file}");
        let cache = reply.header("cache-control").unwrap();
        if file == "checkpoint" {
            assert_eq!(cache, "public, max-age=5");
        } else {
            assert!(cache.contains("immutable"), "{cache}");
        }
    }
    // Nothing past the checkpoint, and no path that is not a tile.
    let size = server.state().shared.read().size();
    server.api(
        Role::Chair,
        "POST",
        "/api/v1/challenges",
        serde_json::json!({ "to_agency": "GMP", "text": "after the checkpoint" }),
    );
    let beyond = format!("/log/tile/0/000.p/{}", size + 1);
    assert_eq!(server.send("GET", &beyond, &[], b"").status, 404);
    for bad in [
        "/log/tile/0/0",
        "/log/tile/../checkpoint",
        "/log/tile/0/x000/000",
    ] {
        assert_eq!(server.send("GET", bad, &[], b"").status, 404, "{bad}");
    }
}
