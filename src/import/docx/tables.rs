//! Tables and their merges, as the document walk builds them: a cell's paragraphs
//! joined into its text, `w:gridSpan` spread over grid columns, a cell merged down
//! showing the text above, legacy merges across widening the first cell, skipped
//! grid columns as empty cells, and a nested table read as text of its cell.
//!
//! It never drops a row or cell, so table and row numbers match what the user sees
//! in Word, and it refuses a table that merges or rows would spread past the limits
//! instead of filling the memory.

use super::super::grid::{Cell, Rgb, Row, RowAt, Unreadable};
use super::document::{DocumentReader, RunColours};
use super::{PARAGRAPHS_BEFORE_TABLE, RESAVE};

/// The most rows (table rows and paragraphs before tables) a document may yield: the
/// largest plans have a few thousand; at 50,000 a whole import stays within about
/// 200 MiB and 2.5 s (docs/RELIABILITY.md, "Hostile Office files").
const ROW_LIMIT: usize = 50_000;
/// The most cells one table row may have once merges are spread over grid columns.
const CELLS_PER_ROW_LIMIT: usize = 1_000;
/// The most cells all rows together may have: a short `w:gridSpan` can stand for a
/// thousand cells, so without this a small file could fill the memory.
const CELL_LIMIT: usize = 1_000_000;
/// The most text all cells together may hold: a merge down copies the text above
/// into every covered cell, so without this a small file could fill the memory.
const TEXT_LIMIT: usize = 64 * 1024 * 1024;
/// How deep tables may nest in cells. Each level's text is copied into the cell
/// around it, so thousands of levels would cost time and memory by the square.
const NESTING_LIMIT: usize = 16;

#[derive(Debug, Default)]
pub(super) struct CellBuild {
    pub(super) paragraphs: Vec<String>,
    pub(super) shading: Option<Rgb>,
    pub(super) run_colours: RunColours,
    pub(super) span: usize,
    pub(super) merged_down: bool,
    pub(super) merged_across: bool,
}

#[derive(Debug, Default)]
pub(super) struct RowBuild {
    cells: Vec<Cell>,
    pub(super) before: usize,
    before_added: bool,
    pub(super) after: usize,
}

#[derive(Debug, Default)]
pub(super) struct TableBuild {
    /// 1-based among top-level tables; 0 for a table nested in a cell.
    number: usize,
    rows: Vec<Vec<Cell>>,
    pub(super) row: Option<RowBuild>,
    pub(super) cell: Option<CellBuild>,
    pub(super) fill: Option<Rgb>,
}

impl DocumentReader {
    pub(super) fn start_table(&mut self) -> Result<(), Unreadable> {
        if self.tables.len() >= NESTING_LIMIT {
            let outer = &self.tables[0];
            return Err(Unreadable::new(format!(
                "table {} row {} has tables nested more than {NESTING_LIMIT} deep inside its \
                 cells, which no action plan has; the document may be damaged or built to \
                 exhaust memory: {RESAVE}",
                outer.number,
                outer.rows.len() + 1
            )));
        }
        let mut table = TableBuild::default();
        if self.tables.is_empty() {
            self.tables_seen += 1;
            table.number = self.tables_seen;
            let at = RowAt {
                table: Some(table.number),
                row: 0,
            };
            if self.pending_dropped > 0 {
                self.grid.notes.push(format!(
                    "{} paragraphs before table {} were not read; only the last {PARAGRAPHS_BEFORE_TABLE} before a table are kept.",
                    self.pending_dropped, table.number
                ));
                self.pending_dropped = 0;
            }
            for text in self.pending.drain(..) {
                self.grid.rows.push(Row {
                    at,
                    cells: vec![Cell::new(text)],
                });
            }
        }
        self.tables.push(table);
        Ok(())
    }

    pub(super) fn end_cell(&mut self) -> Result<(), Unreadable> {
        let Some(table) = self.tables.last_mut() else {
            return Ok(());
        };
        let (Some(build), Some(row)) = (table.cell.take(), table.row.as_mut()) else {
            return Ok(());
        };
        add_cells_before(row);
        let column = row.cells.len();
        let mut text = join_paragraphs(&build.paragraphs);
        let run_fill = match build.run_colours {
            RunColours::Same(colour) => colour,
            _ => None,
        };
        let mut fill = build.shading.or(run_fill).or(table.fill);
        if build.merged_down {
            // A cell merged down shows the text of the cell at the top of the merge;
            // the cell directly above already holds that text if it is merged too.
            let above = table.rows.last().and_then(|cells| cells.get(column));
            let above_text = above.map(|cell| cell.text.clone()).unwrap_or_default();
            text = match text.is_empty() {
                true => above_text,
                false => format!("{above_text}\n{text}"),
            };
            fill = fill.or(above.and_then(|cell| cell.fill));
        }
        if build.merged_across {
            if let Some(first) = row.cells.iter_mut().rev().find(|cell| !cell.covered) {
                first.span += 1;
            }
        }
        if column.saturating_add(build.span) > CELLS_PER_ROW_LIMIT {
            return Err(too_many_cells(table.number, table.rows.len() + 1));
        }
        self.text_bytes += text.len();
        let covered = build.merged_down || build.merged_across;
        row.cells.push(Cell {
            text,
            fill,
            span: build.span,
            covered,
        });
        for _ in 1..build.span {
            row.cells.push(Cell {
                text: String::new(),
                fill,
                span: 1,
                covered: true,
            });
        }
        self.check_totals()
    }

    pub(super) fn end_row(&mut self) -> Result<(), Unreadable> {
        let Some(table) = self.tables.last_mut() else {
            return Ok(());
        };
        let Some(mut row) = table.row.take() else {
            return Ok(());
        };
        let before = if row.before_added { 0 } else { row.before };
        if before
            .saturating_add(row.cells.len())
            .saturating_add(row.after)
            > CELLS_PER_ROW_LIMIT
        {
            return Err(too_many_cells(table.number, table.rows.len() + 1));
        }
        add_cells_before(&mut row);
        row.cells.extend((0..row.after).map(|_| Cell::new("")));
        self.cells += row.cells.len();
        table.rows.push(row.cells);
        let rows = self.grid.rows.len() + table.rows.len();
        if table.number > 0 && rows > ROW_LIMIT {
            return Err(Unreadable::new(
                "the Word document's tables have more than 50,000 rows, far more than any \
                 action plan; split the plan into smaller documents and import each",
            ));
        }
        self.check_totals()
    }

    pub(super) fn end_table(&mut self) -> Result<(), Unreadable> {
        let Some(table) = self.tables.pop() else {
            return Ok(());
        };
        match self.tables.last_mut() {
            None => {
                for (index, cells) in table.rows.into_iter().enumerate() {
                    let at = RowAt {
                        table: Some(table.number),
                        row: index + 1,
                    };
                    self.grid.rows.push(Row { at, cells });
                }
            }
            Some(outer) => {
                // A table nested in a cell is part of that cell's text, one line per
                // row, as a person reading the cell would take it in.
                let lines: Vec<String> = table
                    .rows
                    .iter()
                    .map(|cells| {
                        let texts: Vec<&str> = cells
                            .iter()
                            .filter(|c| !c.covered)
                            .map(|c| c.text.as_str())
                            .collect();
                        texts.join(" | ")
                    })
                    .filter(|line| !line.replace('|', "").trim().is_empty())
                    .collect();
                if let Some(cell) = outer.cell.as_mut() {
                    cell.paragraphs.push(lines.join("\n"));
                }
            }
        }
        Ok(())
    }

    fn check_totals(&self) -> Result<(), Unreadable> {
        if self.cells > CELL_LIMIT || self.text_bytes > TEXT_LIMIT {
            return Err(Unreadable::new(
                "the Word document's tables hold more than 1,000,000 cells or 64 MiB of text \
                 once merged cells are spread out, far more than any action plan; copy the \
                 plan's tables into a new document and import that",
            ));
        }
        Ok(())
    }
}

fn add_cells_before(row: &mut RowBuild) {
    if !row.before_added {
        row.before_added = true;
        let before = row.before.min(CELLS_PER_ROW_LIMIT + 1);
        row.cells.splice(0..0, (0..before).map(|_| Cell::new("")));
    }
}

fn too_many_cells(table: usize, row: usize) -> Unreadable {
    let place = match table {
        0 => "a table inside a cell".to_string(),
        table => format!("table {table} row {row}"),
    };
    Unreadable::new(format!(
        "{place} has more than {CELLS_PER_ROW_LIMIT} cells, which no action plan has; the \
         document may be damaged: {RESAVE}"
    ))
}

/// A cell's text: its non-empty paragraphs, one line each, without blank lines at
/// either end.
fn join_paragraphs(paragraphs: &[String]) -> String {
    let kept: Vec<&str> = paragraphs
        .iter()
        .map(String::as_str)
        .filter(|paragraph| !paragraph.trim().is_empty())
        .collect();
    trim_blank_lines(&kept.join("\n")).to_string()
}

/// Removes whole blank lines at the start and end, keeping spaces within lines.
pub(super) fn trim_blank_lines(text: &str) -> &str {
    let Some(first) = text.find(|c: char| !c.is_whitespace()) else {
        return "";
    };
    let start = text[..first].rfind('\n').map_or(0, |newline| newline + 1);
    let last = text.rfind(|c: char| !c.is_whitespace()).unwrap_or(first);
    let last_end = last + text[last..].chars().next().map_or(0, char::len_utf8);
    let end = text[last_end..]
        .find('\n')
        .map_or(text.len(), |newline| last_end + newline);
    &text[start..end]
}
