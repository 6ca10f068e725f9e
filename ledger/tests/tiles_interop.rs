//! The tiles folder read by code nobody here wrote: Cloudflare's `tlog_tiles` (a
//! port of Go's `golang.org/x/mod/sumdb/tlog`) authenticates every tile it loads
//! against the checkpoint's root, then rebuilds the root and record proofs from them.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use ledger::header::NewEvent;
use ledger::note::SigningKey;
use ledger::proof::tiles::index_path;
use ledger::Ledger;
use tlog_tiles::{
    check_record, prove_record, record_hash, tree_hash, Hash, Tile, TileHashReader, TileReader,
};

/// Tiles read from a folder by their C2SP paths (the crate names them Go's way).
struct Folder(PathBuf);

impl Folder {
    fn path(tile: &Tile) -> String {
        let level = if tile.is_data() {
            "entries".to_owned()
        } else {
            tile.level().to_string()
        };
        let mut path = format!("tile/{level}/{}", index_path(tile.level_index()));
        if tile.width() < 256 {
            path.push_str(&format!(".p/{}", tile.width()));
        }
        path
    }
}

impl TileReader for Folder {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        Ok(tiles
            .iter()
            .map(|t| std::fs::read(self.0.join(Folder::path(t))).unwrap_or_default())
            .collect())
    }

    fn save_tiles(&self, _tiles: &[Tile], _data: &[Vec<u8>]) {}
}

fn event(i: usize) -> NewEvent {
    NewEvent {
        effective: 19_000,
        actor: "tester".into(),
        subject: "test/tiles".into(),
        kind: "test.event".into(),
        payload_schema: 1,
        payload: format!("payload {i}").into_bytes(),
    }
}

#[test]
fn tlog_tiles_rebuilds_the_root_and_the_proofs_from_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::init(&dir.path().join("data")).unwrap();
    let events: Vec<NewEvent> = (0..66_000).map(event).collect();
    for batch in events.chunks(5_000) {
        ledger.append(batch.to_vec()).unwrap();
    }
    let key = SigningKey::generate("tiles.test/log").unwrap();
    let checkpoint = ledger.make_checkpoint(&key).unwrap();
    let out = dir.path().join("tiles");
    ledger.write_tiles(&out, &checkpoint).unwrap();

    let size = ledger.size();
    let root = Hash(ledger.root());
    let folder = Folder(out.clone());
    let reader = TileHashReader::new(size, root, &folder);
    assert_eq!(tree_hash(size, &reader).unwrap(), root);
    for n in [0, 1, 255, 256, 65_535, 65_536, size - 1] {
        let ours = ledger.inclusion_proof(n, size).unwrap();
        let theirs = prove_record(size, n, &reader).unwrap();
        assert_eq!(theirs.iter().map(|h| h.0).collect::<Vec<_>>(), ours, "{n}");
        let leaf = record_hash(&ledger.header(n).unwrap().event_hash());
        check_record(&theirs, size, root, n, leaf).unwrap();
    }

    // The entry bundles hold each event's hash, hashing to the level-0 tile.
    let bundle = std::fs::read(out.join("tile/entries/001")).unwrap();
    let tile = std::fs::read(out.join("tile/0/001")).unwrap();
    for (i, entry) in bundle.chunks(34).enumerate() {
        assert_eq!(&entry[..2], &[0, 32]);
        assert_eq!(record_hash(&entry[2..]).0, tile[i * 32..(i + 1) * 32]);
    }

    // A tile altered on the host is caught: no proof drawn from it checks against
    // the checkpoint's root.
    let target = out.join("tile/0/100");
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[5] ^= 1;
    std::fs::write(&target, bytes).unwrap();
    let reader = TileHashReader::new(size, root, &folder);
    let n = 100 * 256 + 3;
    let leaf = record_hash(&ledger.header(n).unwrap().event_hash());
    let caught = prove_record(size, n, &reader).map_or(true, |proof| {
        check_record(&proof, size, root, n, leaf).is_err()
    });
    assert!(caught, "a proof from an altered tile checked out");
}
