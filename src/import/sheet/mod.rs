//! Reading one sheet of an Excel (`.xlsx`, `.xlsm`) or OpenDocument (`.ods`)
//! spreadsheet into a [`Grid`]: every row from row 1 to the last one used, every
//! column from A to the last one used, each cell with the text a person sees in it and
//! the fill colour it shows, since many plans record RAG status only as a cell's fill.
//!
//! calamine reads the values and the sheet list; this module adds what calamine does
//! not give in the form the programs display it: fills (Excel's styles, theme and tints,
//! OpenDocument cell styles, in `style`), row and column formats, hidden rows and
//! columns, and OpenDocument spans. It only transcribes. It never touches the ledger,
//! never drops a row or column (blank ones stay, so that row numbers and column letters
//! are the ones the user sees) and never guesses what a cell means: which column is the
//! action and which colour is "Red" is for `layout` to decide. Whatever cannot be read
//! is refused as a whole with a message saying what to do, and no input, however
//! damaged or hostile, makes it panic or unpack without limit.
//!
//! The parts: `package` (the zip, its size limits and the guard around calamine),
//! `workbook` (an Excel workbook's parts, found through its relationships), `sheets`
//! (which sheet is read), `repeat_guard` (OpenDocument repeats refused before calamine
//! expands them), `excel` and `ods` (one sheet of each format), `cell_text` (values as
//! people read them), `merges` (values and merged ranges put into the grid), `style`
//! (fills and the XML helpers) and `finish` (the grid and its notes).

mod cell_text;
mod excel;
mod finish;
mod merges;
mod ods;
mod package;
mod repeat_guard;
mod sheets;
mod style;
mod workbook;

use calamine::Sheet;
use quick_xml::Reader as XmlReader;

use super::grid::{column_letters, Cell, Grid, Unreadable};
use excel::{build_excel_sheet, read_excel_sheet_layout, read_excel_values};
use finish::finish;
use merges::Merge;
use ods::{build_ods_sheet, read_ods_layout, read_ods_values};
use package::{guarded, kind_noun, refuse_compound_file, Package};
use repeat_guard::{check_ods_repeats, check_shared_strings};
use sheets::chosen_name;
use style::{
    read_excel_styles, read_excel_theme, ExcelStyles, OdsCellStyles, SpreadsheetKind, OFFICE_THEME,
};
use workbook::ExcelWorkbook;

/// How far a sheet may reach to be read as a plan: the largest plans have a few
/// thousand rows and a few dozen columns. These keep the grid (and what calamine
/// builds before it) well within memory, and a whole import of 50,000 rows within
/// about 200 MiB; a sheet past them is refused, naming them.
const ROW_LIMIT: u32 = 50_000;
const COLUMN_LIMIT: u32 = 1_000;
/// The most cells the grid may have (rows times columns).
const CELL_LIMIT: u64 = 1_000_000;
/// The limits in words, for messages.
const LIMITS_IN_WORDS: &str =
    "a plan is read from at most 50,000 rows, 1,000 columns and 1,000,000 cells";

/// Reads one sheet of an Excel workbook (`.xlsx` or `.xlsm`): `sheet` names it (any
/// case, surrounding spaces ignored); without a name the first visible sheet is read.
pub fn read_xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<Grid, Unreadable> {
    let kind = SpreadsheetKind::Excel;
    refuse_compound_file(bytes)?;
    let mut package = Package::open(bytes, kind)?;
    if package.index("xl/workbook.xml").is_none() && package.index("content.xml").is_some() {
        return Err(Unreadable::new(
            "the file is an OpenDocument spreadsheet, not an Excel workbook; save it with the \
             .ods extension and import it again",
        ));
    }
    let workbook = ExcelWorkbook::locate(&mut package)?;
    let theme = match workbook.theme_part() {
        Some(part) => match package.read_text(&part)? {
            Some(xml) => read_excel_theme(&part, &xml)?,
            None => OFFICE_THEME,
        },
        None => OFFICE_THEME,
    };
    let styles_part = workbook.styles_part();
    let styles = match package.read_text(&styles_part)? {
        Some(xml) => read_excel_styles(&styles_part, &xml, &theme)?,
        None => ExcelStyles::default(),
    };
    let strings_part = workbook.shared_strings_part();
    package.stream(&strings_part, |reader| {
        check_shared_strings(&strings_part, reader)
    })?;
    let values = guarded(kind, || read_excel_values(bytes, sheet))?;
    let name = chosen_name(&values.sheets, values.chosen);
    let sheet_part = workbook.sheet_part(&name)?;
    let layout = package
        .stream(&sheet_part, |reader| {
            read_excel_sheet_layout(reader, &sheet_part)
        })?
        .ok_or_else(|| {
            kind.damaged(
                &sheet_part,
                format!("the part holding sheet \"{name}\" is missing"),
            )
        })?;
    let sheet = build_excel_sheet(values, &styles, layout)?;
    Ok(finish(kind, sheet))
}

/// Reads one sheet of an OpenDocument spreadsheet (`.ods`), chosen as for
/// [`read_xlsx`].
pub fn read_ods(bytes: &[u8], sheet: Option<&str>) -> Result<Grid, Unreadable> {
    let kind = SpreadsheetKind::OpenDocument;
    let mut package = Package::open(bytes, kind)?;
    if package.index("xl/workbook.xml").is_some() {
        return Err(Unreadable::new(
            "the file is an Excel workbook, not an OpenDocument spreadsheet; save it with the \
             .xlsx extension and import it again",
        ));
    }
    package
        .stream("content.xml", check_ods_repeats)?
        .ok_or_else(|| kind.damaged("content.xml", "the part is missing"))?;
    let values = guarded(kind, || read_ods_values(bytes, sheet))?;
    let name = chosen_name(&values.sheets, values.chosen);
    let mut styles = OdsCellStyles::default();
    if let Some(xml) = package.read("styles.xml")? {
        let mut reader = XmlReader::from_reader(xml.as_slice());
        styles
            .read(&mut reader, &mut Vec::new(), None)
            .map_err(|error| kind.damaged("styles.xml", error))?;
    }
    let layout = package
        .stream("content.xml", |reader| {
            read_ods_layout(reader, &name, &mut styles)
        })?
        .ok_or_else(|| kind.damaged("content.xml", "the part is missing"))?;
    if !layout.found {
        return Err(kind.damaged("content.xml", format!("sheet \"{name}\" has no table")));
    }
    let sheet = build_ods_sheet(values, &styles, layout)?;
    Ok(finish(kind, sheet))
}

/// How far the sheet reaches: the number of rows from row 1 and columns from A.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Extent {
    rows: u32,
    columns: u32,
}

impl Extent {
    fn include(&mut self, row: u32, column: u32) {
        self.rows = self.rows.max(row.saturating_add(1));
        self.columns = self.columns.max(column.saturating_add(1));
    }

    fn contains(&self, row: u32, column: u32) -> bool {
        row < self.rows && column < self.columns
    }

    /// Refuses a sheet too large to be a plan before any memory is spent on it.
    fn check(&self, kind: SpreadsheetKind, name: &str) -> Result<(), Unreadable> {
        let cells = u64::from(self.rows) * u64::from(self.columns);
        if self.rows > ROW_LIMIT || self.columns > COLUMN_LIMIT || cells > CELL_LIMIT {
            return Err(Unreadable::new(format!(
                "sheet \"{name}\" reaches row {} and column {}, {cells} cells in all, far more \
                 than any action plan ({LIMITS_IN_WORDS}); delete the unused rows and columns \
                 below and to the right of the plan, or copy the plan into a new {}, and \
                 import again",
                self.rows,
                column_letters(self.columns as usize),
                kind_noun(kind)
            )));
        }
        Ok(())
    }
}

/// One sheet read, before it becomes a [`Grid`].
struct SheetRead {
    sheets: Vec<Sheet>,
    chosen: usize,
    /// The cells, every row as wide as the widest, with their fills and texts.
    rows: Vec<Vec<Cell>>,
    /// 0-based, ascending, within the grid.
    hidden_rows: Vec<u32>,
    hidden_columns: Vec<u32>,
    conditional_formatting: bool,
}

/// The values calamine read and the sheet they come from.
struct SheetValues {
    sheets: Vec<Sheet>,
    chosen: usize,
    /// 0-based row, 0-based column, text, and (Excel only) the cell's format index.
    cells: Vec<(u32, u32, String, usize)>,
    merges: Vec<Merge>,
}

#[cfg(test)]
mod tests;
