//! Header rows: finding the plan's header among the first rows (the row that names
//! the most fields, before the first row that holds a ref), telling a repeated header
//! from a new one further down, and the row and column names messages use.
//!
//! It never decides what a column holds; `columns` does. A later header row that
//! names no column of actions is refused rather than guessed at.

use super::super::columns::{
    header_score, is_ref_token, leading_ref, map_columns, normalise_header, ColumnMapping, Field,
    Use,
};
use super::super::grid::{column_letters, Grid, Row};
use super::reader::Reader;

/// How many rows (not counting a document's paragraphs) the header is looked for in.
const HEADER_SEARCH_ROWS: usize = 30;

/// The header row: the row among the first that names the most fields (the first of
/// equals), stopping at the first row that holds a ref once one has been seen.
pub(super) fn find_header(rows: &[Row]) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    let mut searched = 0;
    for (index, row) in rows.iter().enumerate() {
        if row.is_blank() {
            continue;
        }
        let cells: Vec<&str> = row.cells.iter().map(|c| c.text.as_str()).collect();
        let score = header_score(&cells);
        if best.is_some()
            && cells
                .iter()
                .any(|c| is_ref_token(c.trim_end_matches('.')) || leading_ref(c).is_some())
        {
            break;
        }
        if score > best.map_or(0, |b| b.1) {
            best = Some((index, score));
        }
        if row.at.row > 0 {
            searched += 1;
            if searched >= HEADER_SEARCH_ROWS {
                break;
            }
        }
    }
    best.map(|b| b.0)
        .or_else(|| rows.iter().position(|r| !r.is_blank()))
}

/// The distinct texts of a row's cells, in order, as one line.
pub(super) fn row_text(row: &Row) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for cell in &row.cells {
        let text = cell.text.as_str();
        if !text.is_empty() && !seen.contains(&text) {
            seen.push(text);
        }
    }
    seen.join(" ")
}

pub(super) fn distinct_texts(row: &Row) -> usize {
    let mut seen: Vec<&str> = Vec::new();
    for cell in &row.cells {
        if !cell.text.is_empty() && !seen.contains(&cell.text.as_str()) {
            seen.push(&cell.text);
        }
    }
    seen.len()
}

pub(super) fn column_name(grid: &Grid, index: usize) -> String {
    if grid.lettered_columns {
        column_letters(index + 1)
    } else {
        (index + 1).to_string()
    }
}

impl<'a> Reader<'a> {
    pub(super) fn is_repeated_header(&self, texts: &[&str]) -> bool {
        texts.iter().enumerate().all(|(i, text)| {
            if text.is_empty() {
                return true;
            }
            let Some(column) = self.columns.get(i) else {
                return false;
            };
            normalise_header(text) == normalise_header(&column.header)
                || map_columns(&[(*text).to_owned()], &[], &[], false)
                    .ok()
                    .and_then(|m| m.first().and_then(ColumnMapping::field))
                    .is_some_and(|f| column.field() == Some(f))
        })
    }

    /// A header row that differs from the one before: the columns after it are read
    /// by it.
    pub(super) fn new_header(&mut self, row: &Row) -> Result<(), (Option<usize>, String)> {
        let headers: Vec<String> = row.cells.iter().map(|c| c.text.clone()).collect();
        let columns = map_columns(&headers, &self.content, &self.options.maps, self.lettered)
            .map_err(|message| (None, message))?;
        if !columns
            .iter()
            .any(|c| c.used_as == Use::Field(Field::Action))
        {
            return Err((None, "this row reads as a header row but names no column of actions; make it the same as the plan's first header row, or delete it, and import again".to_owned()));
        }
        self.notes.push(format!(
            "{}: a new header row; the rows after it are read by its columns",
            row.at
        ));
        self.later_columns.push((row.at, columns.clone()));
        self.headers = headers;
        self.columns = columns;
        Ok(())
    }
}
