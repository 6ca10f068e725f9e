//! Turning a sheet read into the [`Grid`] the layout reader takes, with the notes
//! the preview shows: which sheet was read among several, conditional formatting not
//! read, and hidden rows and columns (read all the same), named as runs.
//!
//! It never drops a row or column: hidden ones stay, so row numbers and column
//! letters are the ones the user sees.

use super::super::grid::{column_letters, Grid, Row, RowAt};
use super::package::kind_noun;
use super::sheets::{chosen_name, sheet_list};
use super::style::SpreadsheetKind;
use super::SheetRead;

/// How many separate runs of hidden rows or columns a note names before summing up.
const HIDDEN_RUNS_NAMED: usize = 10;

/// Turns a sheet read into the grid with its notes.
pub(super) fn finish(kind: SpreadsheetKind, sheet: SheetRead) -> Grid {
    let name = chosen_name(&sheet.sheets, sheet.chosen);
    let description = match kind {
        SpreadsheetKind::Excel => format!("Excel workbook, sheet \"{name}\""),
        SpreadsheetKind::OpenDocument => format!("OpenDocument spreadsheet, sheet \"{name}\""),
    };
    let mut notes = Vec::new();
    if sheet.sheets.len() > 1 {
        let noun = kind_noun(kind);
        notes.push(format!(
            "The {noun} has {} sheets ({}); \"{name}\" was read. Choose another with --sheet \
             NAME.",
            sheet.sheets.len(),
            sheet_list(&sheet.sheets)
        ));
    }
    if sheet.conditional_formatting {
        notes.push(
            "The sheet colours cells by conditional formatting, which is not read; statuses \
             come from the cells' own text and fill."
                .to_string(),
        );
    }
    if let Some(note) = hidden_note(&sheet.hidden_rows, &sheet.hidden_columns) {
        notes.push(note);
    }
    let rows = sheet
        .rows
        .into_iter()
        .enumerate()
        .map(|(index, cells)| Row {
            at: RowAt {
                table: None,
                row: index + 1,
            },
            cells,
        })
        .collect();
    Grid {
        description,
        lettered_columns: true,
        rows,
        notes,
    }
}

/// "Rows 4 and 7–9 and column C are hidden in the sheet; they were read all the same."
pub(super) fn hidden_note(rows: &[u32], columns: &[u32]) -> Option<String> {
    let mut phrases = Vec::new();
    if !rows.is_empty() {
        let runs = runs(rows, |row| (row + 1).to_string());
        let noun = if rows.len() == 1 { "row" } else { "rows" };
        phrases.push(format!("{noun} {runs}"));
    }
    if !columns.is_empty() {
        let runs = runs(columns, |column| column_letters(column as usize + 1));
        let noun = if columns.len() == 1 {
            "column"
        } else {
            "columns"
        };
        phrases.push(format!("{noun} {runs}"));
    }
    let sentence = phrases.join(" and ");
    let mut characters = sentence.chars();
    let first = characters.next()?;
    let (verb, pronoun) = if rows.len() + columns.len() == 1 {
        ("is", "it was")
    } else {
        ("are", "they were")
    };
    Some(format!(
        "{}{} {verb} hidden in the sheet; {pronoun} read all the same.",
        first.to_uppercase(),
        characters.as_str()
    ))
}

/// Ascending positions written as runs: "4, 7–9 and 12".
fn runs(positions: &[u32], name: impl Fn(u32) -> String) -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for &position in positions {
        match runs.last_mut() {
            Some((_, end)) if position == end.saturating_add(1) => *end = position,
            Some((_, end)) if position <= *end => {}
            _ => runs.push((position, position)),
        }
    }
    let mut named: Vec<String> = runs
        .iter()
        .take(HIDDEN_RUNS_NAMED)
        .map(|&(start, end)| match start == end {
            true => name(start),
            false => format!("{}–{}", name(start), name(end)),
        })
        .collect();
    if runs.len() > HIDDEN_RUNS_NAMED {
        named.push(format!("{} more", runs.len() - HIDDEN_RUNS_NAMED));
    }
    match named.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}
