//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): the log published as static
//! files. A tile is 256 consecutive Merkle tree hashes at one level: at level 0 the
//! leaf hashes, at level `l` the hashes of complete subtrees of `256^l` leaves. An
//! entry bundle holds the leaves' data — here each event's 32-byte `event_hash` —
//! as big-endian `u16` length-prefixed entries.
//!
//! This module is the format only: which tiles a tree of a given size has, their
//! paths and the bytes of an entry bundle. `Ledger::tile` fills them from the store.

use crate::Hash;

/// Hashes in a full tile.
pub const TILE_WIDTH: u64 = 256;

/// A tile of a tree: its level, its index in that level and its width (256 for a
/// full tile, 1–255 for the rightmost partial one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    pub level: u8,
    pub index: u64,
    pub width: u64,
}

impl Tile {
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        format!("tile/{}/{}", self.level, self.index_and_width())
    }

    /// `tile/entries/<N>[.p/<W>]`, the entry bundle beside a level-0 tile.
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.index_and_width())
    }

    fn index_and_width(&self) -> String {
        let mut path = index_path(self.index);
        if !self.is_full() {
            path.push_str(&format!(".p/{}", self.width));
        }
        path
    }

    /// The leaves the tile's hashes cover: `[start, end)`.
    pub fn leaves(&self) -> (u64, u64) {
        let span = 1u64 << (8 * u32::from(self.level));
        let start = self.index * TILE_WIDTH * span;
        (start, start + self.width * span)
    }

    /// Reads a path relative to the publication's root (`tile/0/x001/234`,
    /// `tile/entries/005.p/17`): the tile, and whether it names an entry bundle.
    /// Anything else is `None`, so a server never maps a stray path to a file.
    pub fn parse(path: &str) -> Option<(Tile, bool)> {
        let rest = path.strip_prefix("tile/")?;
        let (level, rest) = rest.split_once('/')?;
        let (entries, level) = match level {
            "entries" => (true, 0),
            l => (false, parse_decimal(l).filter(|l| *l <= 63)? as u8),
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let width = parse_decimal(width).filter(|w| (1..TILE_WIDTH).contains(w))?;
                (index, width)
            }
            None => (rest, TILE_WIDTH),
        };
        let elements: Vec<&str> = index.split('/').collect();
        let (last, leading) = elements.split_last()?;
        let mut n: u64 = 0;
        for (i, element) in leading.iter().map(|e| e.strip_prefix('x')).enumerate() {
            let value = three_digits(element?)?;
            if i == 0 && value == 0 {
                return None; // no leading zero elements: one path per tile
            }
            n = n.checked_mul(1000)?.checked_add(value)?;
        }
        n = n.checked_mul(1000)?.checked_add(three_digits(last)?)?;
        Some((
            Tile {
                level,
                index: n,
                width,
            },
            entries,
        ))
    }
}

/// A tile index as zero-padded three-digit path elements, all but the last
/// starting with `x`: 1234067 → `x001/x234/067`.
pub fn index_path(mut n: u64) -> String {
    let mut path = format!("{:03}", n % 1000);
    while n >= 1000 {
        n /= 1000;
        path = format!("x{:03}/{path}", n % 1000);
    }
    path
}

fn three_digits(text: &str) -> Option<u64> {
    (text.len() == 3 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// Every tile of a tree of `size` leaves, lowest level first: at each level the
/// full tiles, then the partial one if the level has one. (A tree of 70,000 has 273
/// full level-0 tiles and one of width 112, one full level-1 tile and one of width
/// 17, and one level-2 tile of width 1.)
pub fn tiles_of(size: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    let mut level = 0u8;
    loop {
        // Hashes at this level: the complete subtrees of 256^level leaves.
        let hashes = size >> (8 * u32::from(level));
        if hashes == 0 {
            break;
        }
        let full = hashes / TILE_WIDTH;
        tiles.extend((0..full).map(|index| Tile {
            level,
            index,
            width: TILE_WIDTH,
        }));
        if !hashes.is_multiple_of(TILE_WIDTH) {
            tiles.push(Tile {
                level,
                index: full,
                width: hashes % TILE_WIDTH,
            });
        }
        if level == 7 {
            break; // 256^8 leaves would overflow: no ledger is near that size
        }
        level += 1;
    }
    tiles
}

/// An entry bundle: each event hash as a `u16` big-endian length (32) and its bytes.
pub fn entry_bundle(event_hashes: &[Hash]) -> Vec<u8> {
    let mut bundle = Vec::with_capacity(event_hashes.len() * 34);
    for hash in event_hashes {
        bundle.extend_from_slice(&(hash.len() as u16).to_be_bytes());
        bundle.extend_from_slice(hash);
    }
    bundle
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_the_specs() {
        assert_eq!(index_path(0), "000");
        assert_eq!(index_path(999), "999");
        assert_eq!(index_path(1000), "x001/000");
        assert_eq!(index_path(1_234_067), "x001/x234/067");
        let partial = Tile {
            level: 1,
            index: 1_234_067,
            width: 17,
        };
        assert_eq!(partial.path(), "tile/1/x001/x234/067.p/17");
        let full = Tile {
            level: 0,
            index: 5,
            width: 256,
        };
        assert_eq!(full.path(), "tile/0/005");
        assert_eq!(full.entries_path(), "tile/entries/005");
        for tile in [partial, full] {
            assert_eq!(Tile::parse(&tile.path()), Some((tile, false)));
        }
        assert_eq!(Tile::parse("tile/entries/005"), Some((full, true)));
        for bad in [
            "tile/0/5",
            "tile/00/005",
            "tile/0/x000/005",
            "tile/0/001/005",
            "tile/0/005.p/0",
            "tile/0/005.p/256",
            "tile/0/005.p/017",
            "tile/64/005",
            "tile/0/../005",
            "checkpoint",
            "tile/0/x1/005",
        ] {
            assert_eq!(Tile::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_tree_of_70000_has_the_tiles_the_spec_lists() {
        let tiles = tiles_of(70_000);
        let at = |level: u8| tiles.iter().filter(move |t| t.level == level);
        assert_eq!(at(0).filter(|t| t.is_full()).count(), 273);
        assert_eq!(at(0).find(|t| !t.is_full()).map(|t| t.width), Some(112));
        assert_eq!(at(1).filter(|t| t.is_full()).count(), 1);
        assert_eq!(at(1).find(|t| !t.is_full()).map(|t| t.width), Some(17));
        assert_eq!(at(2).map(|t| t.width).collect::<Vec<_>>(), vec![1]);
        assert_eq!(tiles.len(), 273 + 1 + 1 + 1 + 1);
        // A tree of 256: one full level-0 tile and a level-1 tile of width 1.
        assert_eq!(
            tiles_of(256),
            vec![
                Tile {
                    level: 0,
                    index: 0,
                    width: 256
                },
                Tile {
                    level: 1,
                    index: 0,
                    width: 1
                }
            ]
        );
        assert!(tiles_of(0).is_empty());
        let last = Tile {
            level: 1,
            index: 1,
            width: 17,
        };
        assert_eq!(last.leaves(), (65_536, 65_536 + 17 * 256));
    }

    #[test]
    fn entries_are_length_prefixed() {
        let bundle = entry_bundle(&[[7u8; 32], [9u8; 32]]);
        assert_eq!(bundle.len(), 68);
        assert_eq!(&bundle[..2], &[0, 32]);
        assert_eq!(&bundle[34..36], &[0, 32]);
        assert_eq!(bundle[36], 9);
    }
}
