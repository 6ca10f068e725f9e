//! Putting cell values into the grid and spreading merged ranges over it: a merge
//! down copies its text into the first cell of every row it covers, a merge across
//! marks the cells it covers, and overlapping ranges are left as they are.
//!
//! It never guesses at a malformed range, and never lets merged text or overlap
//! checks grow past the limits a hostile file could otherwise push them to.

use calamine::Dimensions;

use super::super::grid::{Cell, Unreadable};
use super::package::kind_noun;
use super::style::SpreadsheetKind;
use super::CELL_LIMIT;

/// The most text all cells together may hold once merged text is copied down.
const TEXT_LIMIT: usize = 256 * 1024 * 1024;

/// A merged range, 0-based and inclusive at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Merge {
    pub(super) top: u32,
    pub(super) left: u32,
    pub(super) bottom: u32,
    pub(super) right: u32,
}

impl From<Dimensions> for Merge {
    fn from(dimensions: Dimensions) -> Merge {
        Merge {
            top: dimensions.start.0,
            left: dimensions.start.1,
            bottom: dimensions.end.0,
            right: dimensions.end.1,
        }
    }
}

/// Puts the values into the grid and spreads merged ranges over it.
pub(super) fn place_values_and_merges(
    kind: SpreadsheetKind,
    name: &str,
    rows: &mut [Vec<Cell>],
    values: Vec<(u32, u32, String, usize)>,
    merges: &[Merge],
) -> Result<(), Unreadable> {
    let height = rows.len() as u32;
    let width = rows.first().map_or(0, Vec::len) as u32;
    let mut text_bytes = 0usize;
    for (row, column, text, _) in values {
        text_bytes = text_bytes.saturating_add(text.len());
        if let Some(cell) = cell_mut(rows, row, column) {
            cell.text = text;
        }
    }
    let too_much_text = || {
        Unreadable::new(format!(
            "the merged cells of sheet \"{name}\" repeat more text than any action plan holds \
             (over {} MiB); unmerge the cells in the {}, save it and import again",
            TEXT_LIMIT / (1024 * 1024),
            kind_noun(kind)
        ))
    };
    if text_bytes > TEXT_LIMIT {
        return Err(too_much_text());
    }
    // Checking merges for overlaps costs time in proportion to their area; a real
    // sheet's merges cover each cell at most once, so this budget is never reached
    // except by a file built to stall the reader.
    let mut checks_left = CELL_LIMIT.saturating_mul(4);
    for merge in merges {
        if merge.top >= height || merge.left >= width {
            continue;
        }
        let bottom = merge.bottom.min(height - 1);
        let right = merge.right.min(width - 1);
        if bottom < merge.top || right < merge.left || (bottom == merge.top && right == merge.left)
        {
            continue;
        }
        let area = u64::from(bottom - merge.top + 1) * u64::from(right - merge.left + 1);
        if area > checks_left {
            return Err(kind.damaged(
                &format!("sheet \"{name}\""),
                "its merged ranges overlap one another",
            ));
        }
        checks_left -= area;
        // Ranges that overlap one already spread are malformed (Excel repairs such
        // files by dropping them), so they are left as they are instead of guessed at.
        let overlaps = (merge.top..=bottom).any(|row| {
            (merge.left..=right).any(|column| {
                cell_mut(rows, row, column).is_some_and(|cell| cell.covered || cell.span > 1)
            })
        });
        if overlaps {
            continue;
        }
        let span = (right - merge.left + 1) as usize;
        let Some(head) = cell_mut(rows, merge.top, merge.left) else {
            continue;
        };
        head.span = span;
        let (text, fill) = (head.text.clone(), head.fill);
        for row in merge.top..=bottom {
            for column in merge.left..=right {
                if row == merge.top && column == merge.left {
                    continue;
                }
                // A merge down shows the top-left text in the first cell of every row
                // it covers, so that a lead or date merged over several actions applies
                // to each; the cells to its right stand for the merge across and stay
                // empty, as in the row at the top.
                let first_of_row = column == merge.left;
                let copied = if first_of_row {
                    text_bytes = text_bytes.saturating_add(text.len());
                    if text_bytes > TEXT_LIMIT {
                        return Err(too_much_text());
                    }
                    text.clone()
                } else {
                    String::new()
                };
                if let Some(cell) = cell_mut(rows, row, column) {
                    *cell = Cell {
                        text: copied,
                        fill,
                        span: if first_of_row { span } else { 1 },
                        covered: true,
                    };
                }
            }
        }
    }
    Ok(())
}

pub(super) fn cell_mut(rows: &mut [Vec<Cell>], row: u32, column: u32) -> Option<&mut Cell> {
    rows.get_mut(row as usize)?.get_mut(column as usize)
}
