//! The cells of a plan exactly as its file lays them out, before any of them is
//! read as a field: what every file reader (`text`, `docx`, `sheet`) produces and
//! what `layout` reads.
//!
//! A reader keeps everything a person sees in the file and decides nothing about
//! what it means: no row is dropped (blank ones included, so that row numbers stay
//! true), no text is trimmed beyond what the format itself implies, and a cell's
//! colour is kept as the colour it shows.

use std::fmt;

/// A colour as a cell shows it, after theme, tint and palette are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Reads `RRGGBB` or `AARRGGBB` hex (Word's `w:fill`, Excel's `rgb`); `None` for
    /// anything else, including Word's "auto".
    pub fn from_hex(hex: &str) -> Option<Rgb> {
        let hex = hex.trim().trim_start_matches('#');
        let hex = match hex.len() {
            6 => hex,
            8 => hex.get(2..)?,
            _ => return None,
        };
        let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
        Some(Rgb(byte(0)?, byte(2)?, byte(4)?))
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02X}{:02X}{:02X}", self.0, self.1, self.2)
    }
}

/// One cell of one row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    /// The cell's text: its paragraphs (Word) or lines joined by `\n`. Numbers and
    /// dates are written as the file shows them.
    pub text: String,
    /// The cell's background (Word shading, Excel fill), if it has one.
    pub fill: Option<Rgb>,
    /// How many grid columns this cell covers: more than 1 when merged across
    /// (Word `gridSpan`, an Excel merged range). The columns it covers follow it as
    /// cells with `covered` set, so column numbers stay aligned with the header.
    pub span: usize,
    /// Part of a merge whose text stands in another cell: to the left (a merge
    /// across) or above (a merge down; then `text` is a copy of the text above).
    pub covered: bool,
}

impl Cell {
    pub fn new(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            fill: None,
            span: 1,
            covered: false,
        }
    }
}

/// Where a row is, as the user finds it in their file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowAt {
    /// The 1-based table of a Word document; `None` for sheets and text.
    pub table: Option<usize>,
    /// The 1-based row: the sheet's row number, the text file's row as a spreadsheet
    /// would show it, or the row within its Word table. A Word paragraph outside any
    /// table is row 0 of the table it comes before.
    pub row: usize,
}

impl fmt::Display for RowAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.table {
            Some(table) if self.row == 0 => write!(f, "the text before table {table}"),
            Some(table) => write!(f, "table {table} row {}", self.row),
            None => write!(f, "row {}", self.row),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub at: RowAt,
    pub cells: Vec<Cell>,
}

impl Row {
    /// True when no cell holds any text.
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.text.trim().is_empty())
    }
}

/// Everything a reader found, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grid {
    /// What the file was read as, for the report: "Word document, 3 tables",
    /// "Excel workbook, sheet \"Plan\"", "CSV, UTF-8, comma-separated".
    pub description: String,
    /// True for spreadsheets, whose columns people name by letter (A, B, … AA).
    pub lettered_columns: bool,
    pub rows: Vec<Row>,
    /// Things the reader noticed that the user should know, each a full sentence
    /// ("The workbook has 3 sheets; only \"Plan\" was read (choose with --sheet).").
    pub notes: Vec<String>,
}

/// Why a file could not be read at all: what it is and what to do instead. The
/// caller adds the file's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub message: String,
}

impl Unreadable {
    pub fn new(message: impl Into<String>) -> Unreadable {
        Unreadable {
            message: message.into(),
        }
    }
}

/// The spreadsheet name of a 1-based column: 1 → A, 27 → AA.
pub fn column_letters(mut column: usize) -> String {
    let mut letters = Vec::new();
    while column > 0 {
        let rem = (column - 1) % 26;
        letters.push(b'A' + rem as u8);
        column = (column - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_and_letters() {
        assert_eq!(Rgb::from_hex("00B050"), Some(Rgb(0, 0xB0, 0x50)));
        assert_eq!(Rgb::from_hex("FF00B050"), Some(Rgb(0, 0xB0, 0x50)));
        assert_eq!(Rgb::from_hex("auto"), None);
        assert_eq!(Rgb(0, 0xB0, 0x50).to_string(), "#00B050");
        assert_eq!(column_letters(1), "A");
        assert_eq!(column_letters(26), "Z");
        assert_eq!(column_letters(27), "AA");
        assert_eq!(column_letters(703), "AAA");
    }
}
