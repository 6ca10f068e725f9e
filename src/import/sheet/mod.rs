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

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use calamine::{
    Data, DataRef, Dimensions, ExcelDateTime, Ods, OdsError, Reader as _, Sheet, SheetType,
    SheetVisible, Xlsx, XlsxError,
};
use chrono::{NaiveDate, NaiveTime, TimeDelta, Timelike};
use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;
use zip::ZipArchive;

use super::grid::{column_letters, Cell, Grid, Rgb, Row, RowAt, Unreadable};
mod style;

use style::{
    attribute, flag_attribute, local_name, number_attribute, part_text, read_excel_styles,
    read_excel_theme, walk_part, ExcelStyles, OdsCellStyles, SpreadsheetKind, OFFICE_THEME,
};

/// The most any one part of the package may unpack to; more is refused as a zip bomb.
/// Checked against every part's declared size before calamine opens the file, since
/// the zip library never unpacks more than a part declares.
const PART_LIMIT: u64 = 512 * 1024 * 1024;
/// Excel's own limits, which OpenDocument repeats are capped to as well.
const ROW_LIMIT: u32 = 1_048_576;
const COLUMN_LIMIT: u32 = 16_384;
/// The most cells the grid may have (rows times columns); a plan has a few thousand.
const CELL_LIMIT: u64 = 4_000_000;
/// The most text all cells together may hold once merged text is copied down.
const TEXT_LIMIT: usize = 256 * 1024 * 1024;
/// The most merged ranges read from an OpenDocument sheet, where one repeated spanned
/// cell can stand for very many.
const MERGE_LIMIT: usize = 200_000;
/// How many separate runs of hidden rows or columns a note names before summing up.
const HIDDEN_RUNS_NAMED: usize = 10;

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

/// How many cells with a value an OpenDocument file may make by repeating them
/// (`number-columns-repeated` × `number-rows-repeated`): far beyond any plan, and
/// small enough that calamine, which writes every repeated value out, stays fast.
const MAX_REPEATED_VALUES: u64 = 2_000_000;

/// Refuses a spreadsheet whose repeat counts would make millions of cells with a
/// value, before calamine expands them (a hostile or damaged file could otherwise
/// take minutes and gigabytes). Empty repeated cells, which every saved sheet has
/// by the million, cost nothing and are not counted.
fn check_ods_repeats(reader: &mut XmlReader<&mut dyn BufRead>) -> Result<(), Unreadable> {
    let kind = SpreadsheetKind::OpenDocument;
    let mut buffer = Vec::new();
    let mut rows_repeated = 1u64;
    let mut total = 0u64;
    loop {
        buffer.clear();
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|error| kind.damaged("content.xml", error))?;
        let (element, has_children) = match &event {
            Event::Start(element) => (element, true),
            Event::Empty(element) => (element, false),
            Event::Eof => return Ok(()),
            _ => continue,
        };
        match element.local_name().as_ref() {
            "table-row" => {
                rows_repeated = number_attribute(element, "number-rows-repeated").unwrap_or(1);
            }
            "table-cell" | "covered-table-cell" => {
                let valued = has_children || attribute(element, "value-type").is_some();
                if valued {
                    let columns = number_attribute(element, "number-columns-repeated").unwrap_or(1);
                    total = total.saturating_add(columns.saturating_mul(rows_repeated));
                    if total > MAX_REPEATED_VALUES {
                        return Err(Unreadable::new(format!(
                            "the spreadsheet repeats cells with values into more than {MAX_REPEATED_VALUES} cells, far more than any plan has (the file is damaged or not a plan); open it in LibreOffice Calc, check its size, save it again and import again"
                        )));
                    }
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------
// The package and the guard around calamine.

/// The zip package, with its parts findable whatever case or slashes a writer used.
struct Package<'a> {
    kind: SpreadsheetKind,
    archive: ZipArchive<Cursor<&'a [u8]>>,
    parts: HashMap<String, usize>,
}

fn normalised_part_name(name: &str) -> String {
    name.trim_start_matches(['/', '\\'])
        .replace('\\', "/")
        .to_lowercase()
}

impl<'a> Package<'a> {
    fn open(bytes: &'a [u8], kind: SpreadsheetKind) -> Result<Package<'a>, Unreadable> {
        let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|error| {
            Unreadable::new(match kind {
                SpreadsheetKind::Excel => format!(
                    "the file is not an Excel workbook (it is not a zip package: {error}); open \
                     it in Excel, save it as \"Excel Workbook (.xlsx)\" and import again"
                ),
                SpreadsheetKind::OpenDocument => format!(
                    "the file is not an OpenDocument spreadsheet (it is not a zip package: \
                     {error}); open it in LibreOffice Calc, save it as \"ODF Spreadsheet \
                     (.ods)\" and import again"
                ),
            })
        })?;
        let mut parts = HashMap::new();
        for index in 0..archive.len() {
            let Ok(entry) = archive.by_index_data(index) else {
                continue;
            };
            let Ok(name) = entry.name() else {
                continue;
            };
            if entry.size() > PART_LIMIT {
                return Err(too_large_part(kind, &name));
            }
            parts.entry(normalised_part_name(&name)).or_insert(index);
        }
        Ok(Package {
            kind,
            archive,
            parts,
        })
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.parts.get(&normalised_part_name(name)).copied()
    }

    /// Reads one part whole, or `None` when the package has no such part.
    fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, Unreadable> {
        let Some(index) = self.index(name) else {
            return Ok(None);
        };
        let kind = self.kind;
        let file = self
            .archive
            .by_index(index)
            .map_err(|error| kind.damaged(name, error))?;
        // The declared size may lie, so it only sizes the first allocation.
        let declared = usize::try_from(file.size().min(16 * 1024 * 1024)).unwrap_or(0);
        let mut bytes = Vec::with_capacity(declared);
        file.take(PART_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(|error| kind.damaged(name, error))?;
        if bytes.len() as u64 > PART_LIMIT {
            return Err(too_large_part(kind, name));
        }
        Ok(Some(bytes))
    }

    fn read_text(&mut self, name: &str) -> Result<Option<String>, Unreadable> {
        match self.read(name)? {
            Some(bytes) => part_text(self.kind, name, bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Streams one part through `read` without holding it in memory.
    fn stream<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut XmlReader<&mut dyn BufRead>) -> Result<T, Unreadable>,
    ) -> Result<Option<T>, Unreadable> {
        let Some(index) = self.index(name) else {
            return Ok(None);
        };
        let kind = self.kind;
        let file = self
            .archive
            .by_index(index)
            .map_err(|error| kind.damaged(name, error))?;
        let mut buffered = BufReader::new(file.take(PART_LIMIT));
        let mut reader = XmlReader::from_reader(&mut buffered as &mut dyn BufRead);
        read(&mut reader).map(Some)
    }
}

fn too_large_part(kind: SpreadsheetKind, name: &str) -> Unreadable {
    let noun = kind_noun(kind);
    Unreadable::new(format!(
        "the {noun}'s part {name} unpacks to more than {} MiB, far more than any action plan, \
         so it was not read (it may be damaged or built to exhaust memory); copy the plan into \
         a new {noun} and import that",
        PART_LIMIT / (1024 * 1024)
    ))
}

fn kind_noun(kind: SpreadsheetKind) -> &'static str {
    match kind {
        SpreadsheetKind::Excel => "workbook",
        SpreadsheetKind::OpenDocument => "spreadsheet",
    }
}

/// Old binary `.xls` workbooks and password-protected `.xlsx` files are both OLE
/// compound files; saying so saves the user a guess.
fn refuse_compound_file(bytes: &[u8]) -> Result<(), Unreadable> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(Unreadable::new(
            "the file is an older Excel .xls workbook or a password-protected workbook, which \
             cannot be read; open it in Excel, remove any password, save it as \"Excel \
             Workbook (.xlsx)\" and import again",
        ));
    }
    Ok(())
}

/// Runs calamine, turning a panic inside it on a hostile file into a refusal: this
/// reader must never bring the program down, whatever a library does.
fn guarded<T>(
    kind: SpreadsheetKind,
    work: impl FnOnce() -> Result<T, Unreadable>,
) -> Result<T, Unreadable> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
        Err(kind.damaged(
            "the spreadsheet library stopped on it",
            "the file does not follow the format",
        ))
    })
}

// ---------------------------------------------------------------------------------
// Choosing the sheet.

/// Which sheet to read: the one named (matched without regard to case or surrounding
/// spaces), or the first visible worksheet.
fn choose_sheet(
    kind: SpreadsheetKind,
    sheets: &[Sheet],
    requested: Option<&str>,
) -> Result<usize, Unreadable> {
    let noun = kind_noun(kind);
    if sheets.is_empty() {
        return Err(kind.damaged("the sheet list", "there are no sheets"));
    }
    let chosen = match requested {
        Some(requested) => {
            let wanted = requested.trim();
            let wanted_lower = wanted.to_lowercase();
            sheets
                .iter()
                .position(|sheet| sheet.name.trim() == wanted)
                .or_else(|| {
                    sheets
                        .iter()
                        .position(|sheet| sheet.name.trim().to_lowercase() == wanted_lower)
                })
                .ok_or_else(|| {
                    Unreadable::new(format!(
                        "the {noun} has no sheet \"{wanted}\"; its sheets are {}; choose one \
                         with --sheet NAME",
                        sheet_list(sheets)
                    ))
                })?
        }
        None => sheets
            .iter()
            .position(|sheet| {
                sheet.visible == SheetVisible::Visible && sheet.typ != SheetType::ChartSheet
            })
            .or_else(|| {
                sheets
                    .iter()
                    .position(|sheet| sheet.typ != SheetType::ChartSheet)
            })
            .unwrap_or(0),
    };
    if let Some(sheet) = sheets.get(chosen) {
        if sheet.typ == SheetType::ChartSheet {
            return Err(Unreadable::new(format!(
                "sheet \"{}\" is a chart, not a sheet of cells; choose another with --sheet \
                 NAME (the {noun}'s sheets are {})",
                sheet.name,
                sheet_list(sheets)
            )));
        }
    }
    Ok(chosen)
}

fn chosen_name(sheets: &[Sheet], chosen: usize) -> String {
    sheets
        .get(chosen)
        .map_or(String::new(), |sheet| sheet.name.clone())
}

/// The sheets' names for a message, with hidden sheets and charts marked as such.
fn sheet_list(sheets: &[Sheet]) -> String {
    sheets
        .iter()
        .map(|sheet| {
            let mark = match (sheet.typ, sheet.visible) {
                (SheetType::ChartSheet, _) => " (a chart)",
                (_, SheetVisible::Hidden | SheetVisible::VeryHidden) => " (hidden)",
                _ => "",
            };
            format!("\"{}\"{mark}", sheet.name)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------------------------
// Cell text.

/// A cell's value as text, as a person reading the sheet sees it.
fn value_text(value: &Data) -> String {
    match value {
        Data::Empty => String::new(),
        Data::String(text) => with_plain_line_breaks(text),
        Data::Int(number) => number.to_string(),
        Data::Float(number) => number_text(*number),
        Data::Bool(true) => "TRUE".to_string(),
        Data::Bool(false) => "FALSE".to_string(),
        Data::Error(error) => error.to_string(),
        Data::DateTime(date) => excel_date_text(date),
        Data::DateTimeIso(text) => iso_date_text(text),
        Data::DurationIso(text) => iso_duration_text(text),
    }
}

/// Line breaks as `\n`, whether the file wrote them as CR LF, CR or `_x000D_`.
fn with_plain_line_breaks(text: &str) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_string()
    }
}

/// A number as Excel's General format shows it: whole numbers without a decimal
/// point, others to at most 15 significant digits, which also drops binary noise
/// such as the 4 at the end of 0.30000000000000004.
fn number_text(number: f64) -> String {
    if !number.is_finite() {
        return number.to_string();
    }
    let rounded: f64 = format!("{number:.14e}").parse().unwrap_or(number);
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded}")
    }
}

/// An Excel date as `YYYY-MM-DD`, with ` HH:MM` when it has a time of day; a time
/// alone as `HH:MM`; a duration as hours and minutes.
fn excel_date_text(date: &ExcelDateTime) -> String {
    let serial = date.as_f64();
    if date.is_duration() {
        return duration_text(serial * 86_400.0);
    }
    if !(0.0..2_958_466.0).contains(&serial) {
        return number_text(serial);
    }
    if serial < 1.0 {
        return clock_text(serial * 86_400.0);
    }
    match date
        .as_datetime()
        .and_then(|moment| moment.checked_add_signed(TimeDelta::milliseconds(500)))
    {
        Some(moment) => {
            let day = moment.date().format("%Y-%m-%d");
            match (moment.hour(), moment.minute()) {
                (0, 0) => day.to_string(),
                (hour, minute) => format!("{day} {hour:02}:{minute:02}"),
            }
        }
        None => number_text(serial),
    }
}

/// A time of day from seconds since midnight: `HH:MM`, or `HH:MM:SS` when the
/// seconds are not zero.
fn clock_text(seconds: f64) -> String {
    let total = seconds.round().clamp(0.0, 86_399.0) as u64;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    match seconds {
        0 => format!("{hours:02}:{minutes:02}"),
        _ => format!("{hours:02}:{minutes:02}:{seconds:02}"),
    }
}

/// A duration as Excel's `[h]:mm` shows it, with seconds when there are any and the
/// hours in two digits at least, like a time of day.
fn duration_text(seconds: f64) -> String {
    if !seconds.is_finite() {
        return String::new();
    }
    let sign = if seconds < 0.0 { "-" } else { "" };
    let total = seconds.abs().round().min(9.0e15) as u64;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    match seconds {
        0 => format!("{sign}{hours:02}:{minutes:02}"),
        _ => format!("{sign}{hours:02}:{minutes:02}:{seconds:02}"),
    }
}

/// An OpenDocument date value (`2024-03-01` or `2024-03-01T10:30:00`) written as for
/// Excel dates; anything unexpected is kept as written.
fn iso_date_text(text: &str) -> String {
    let text = text.trim();
    let (day, time) = match text.split_once('T') {
        Some((day, time)) => (day, Some(time)),
        None => (text, None),
    };
    let Ok(day) = NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
        return text.to_string();
    };
    let time = time.and_then(|time| {
        let time = time.trim_end_matches('Z');
        let time = time.split(['+', '-']).next().unwrap_or(time);
        NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
            .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
            .ok()
    });
    match time.map(|time| (time.hour(), time.minute())) {
        None | Some((0, 0)) => day.format("%Y-%m-%d").to_string(),
        Some((hour, minute)) => format!("{} {hour:02}:{minute:02}", day.format("%Y-%m-%d")),
    }
}

/// An OpenDocument time value (`PT10H30M00S`), which is how LibreOffice stores both
/// times of day and durations, as hours and minutes.
fn iso_duration_text(text: &str) -> String {
    let trimmed = text.trim();
    let (negative, rest) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let Some(rest) = rest.strip_prefix('P') else {
        return trimmed.to_string();
    };
    let mut seconds = 0.0;
    let mut number = String::new();
    let mut in_time = false;
    for character in rest.chars() {
        match character {
            'T' => in_time = true,
            '0'..='9' | '.' | ',' => number.push(if character == ',' { '.' } else { character }),
            unit => {
                let Ok(value) = number.parse::<f64>() else {
                    return trimmed.to_string();
                };
                number.clear();
                seconds += value
                    * match (unit, in_time) {
                        ('D', false) => 86_400.0,
                        ('H', true) => 3_600.0,
                        ('M', true) => 60.0,
                        ('S', true) => 1.0,
                        _ => return trimmed.to_string(),
                    };
            }
        }
    }
    if !number.is_empty() {
        return trimmed.to_string();
    }
    duration_text(if negative { -seconds } else { seconds })
}

// ---------------------------------------------------------------------------------
// Building the grid, for both formats.

/// A merged range, 0-based and inclusive at both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Merge {
    top: u32,
    left: u32,
    bottom: u32,
    right: u32,
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
                 than any action plan; delete the unused rows and columns below and to the \
                 right of the plan, or copy the plan into a new {}, and import again",
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

/// Refuses a sheet with no text anywhere, naming the sheets that might be meant.
fn refuse_empty(
    kind: SpreadsheetKind,
    sheets: &[Sheet],
    chosen: usize,
    coloured: bool,
) -> Unreadable {
    let name = chosen_name(sheets, chosen);
    let what = if coloured {
        "has no text in any cell, only colours"
    } else {
        "is empty"
    };
    let others: Vec<Sheet> = sheets
        .iter()
        .enumerate()
        .filter(|&(index, _)| index != chosen)
        .map(|(_, sheet)| sheet.clone())
        .collect();
    if others.is_empty() {
        Unreadable::new(format!(
            "sheet \"{name}\" {what} and the {} has no other sheet; check that this is the file \
             that holds the plan",
            kind_noun(kind)
        ))
    } else {
        Unreadable::new(format!(
            "sheet \"{name}\" {what}; the {}'s other sheets are {}: choose one with --sheet NAME",
            kind_noun(kind),
            sheet_list(&others)
        ))
    }
}

/// Puts the values into the grid and spreads merged ranges over it.
fn place_values_and_merges(
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

fn cell_mut(rows: &mut [Vec<Cell>], row: u32, column: u32) -> Option<&mut Cell> {
    rows.get_mut(row as usize)?.get_mut(column as usize)
}

/// Turns a sheet read into the grid with its notes.
fn finish(kind: SpreadsheetKind, sheet: SheetRead) -> Grid {
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
fn hidden_note(rows: &[u32], columns: &[u32]) -> Option<String> {
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

// ---------------------------------------------------------------------------------
// Excel.

fn read_excel_values(bytes: &[u8], requested: Option<&str>) -> Result<SheetValues, Unreadable> {
    let kind = SpreadsheetKind::Excel;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|error| match error {
        XlsxError::Password => Unreadable::new(
            "the workbook is protected by a password, so it cannot be read; open it in Excel, \
             remove the password, save it and import again",
        ),
        other => Unreadable::new(format!(
            "the workbook could not be opened ({other}); open it in Excel, save it again as \
             .xlsx and import again"
        )),
    })?;
    let sheets = workbook.sheets_metadata().to_vec();
    let chosen = choose_sheet(kind, &sheets, requested)?;
    let name = chosen_name(&sheets, chosen);
    let part = format!("sheet \"{name}\"");
    let mut cells = Vec::new();
    {
        let mut reader = workbook
            .worksheet_cells_reader(&name)
            .map_err(|error| match error {
                XlsxError::NotAWorksheet(_) => Unreadable::new(format!(
                    "sheet \"{name}\" is not a sheet of cells; choose another with --sheet NAME \
                     (the workbook's sheets are {})",
                    sheet_list(&sheets)
                )),
                other => kind.damaged(&part, other),
            })?;
        while let Some((cell, format)) = reader
            .next_cell_with_style_id()
            .map_err(|error| kind.damaged(&part, error))?
        {
            let (row, column) = cell.get_position();
            let text = match cell.get_value() {
                DataRef::SharedString(text) => with_plain_line_breaks(text),
                other => value_text(&Data::from(other.clone())),
            };
            if text.is_empty() && format == 0 {
                continue;
            }
            if cells.len() as u64 >= CELL_LIMIT {
                return Err(Unreadable::new(format!(
                    "sheet \"{name}\" has more than {CELL_LIMIT} cells, far more than any action \
                     plan; copy the plan into a new workbook and import that"
                )));
            }
            cells.push((row, column, text, format));
        }
    }
    let merges = workbook
        .merge_cells_by_sheet_name(&name)
        .map_err(|error| kind.damaged(&part, error))?
        .into_iter()
        .map(Merge::from)
        .collect();
    Ok(SheetValues {
        sheets,
        chosen,
        cells,
        merges,
    })
}

/// The workbook part and the parts it relates to, found through the package's
/// relationships as Excel finds them instead of by the usual names: writers number
/// and place sheets as they like.
struct ExcelWorkbook {
    part: String,
    directory: String,
    xml: String,
    relationships_part: String,
    relationships: Vec<Relationship>,
}

impl ExcelWorkbook {
    fn locate(package: &mut Package) -> Result<ExcelWorkbook, Unreadable> {
        let mut part = "xl/workbook.xml".to_string();
        if let Some(xml) = package.read_text("_rels/.rels")? {
            if let Some(relationship) = read_relationships("_rels/.rels", &xml)?
                .into_iter()
                .find(|relationship| relationship.kind.ends_with("/officeDocument"))
            {
                part = resolve_target("", &relationship.target);
            }
        }
        let Some(xml) = package.read_text(&part)? else {
            return Err(Unreadable::new(format!(
                "the file is a zip package without {part}, so it is not an Excel workbook; open \
                 the plan in Excel, save it as \"Excel Workbook (.xlsx)\" and import again"
            )));
        };
        let (directory, file) = match part.rsplit_once('/') {
            Some((directory, file)) => (directory.to_string(), file.to_string()),
            None => (String::new(), part.clone()),
        };
        let relationships_part = match directory.is_empty() {
            true => format!("_rels/{file}.rels"),
            false => format!("{directory}/_rels/{file}.rels"),
        };
        let relationships = match package.read_text(&relationships_part)? {
            Some(xml) => read_relationships(&relationships_part, &xml)?,
            None => Vec::new(),
        };
        Ok(ExcelWorkbook {
            part,
            directory,
            xml,
            relationships_part,
            relationships,
        })
    }

    /// The part the first internal relationship that `wanted` accepts points to.
    fn related(&self, wanted: impl Fn(&Relationship) -> bool) -> Option<String> {
        self.relationships
            .iter()
            .find(|relationship| !relationship.external && wanted(relationship))
            .map(|relationship| resolve_target(&self.directory, &relationship.target))
    }

    fn styles_part(&self) -> String {
        self.related(|relationship| relationship.kind.ends_with("/styles"))
            .unwrap_or_else(|| resolve_target(&self.directory, "styles.xml"))
    }

    fn theme_part(&self) -> Option<String> {
        self.related(|relationship| relationship.kind.ends_with("/theme"))
    }

    fn sheet_part(&self, sheet_name: &str) -> Result<String, Unreadable> {
        let kind = SpreadsheetKind::Excel;
        let mut relationship_id = None;
        walk_part(kind, &self.part, &self.xml, |ancestors, element| {
            if relationship_id.is_none()
                && local_name(element) == "sheet"
                && ancestors.last().map(String::as_str) == Some("sheets")
                && attribute(element, "name").as_deref() == Some(sheet_name)
            {
                relationship_id = attribute(element, "id");
            }
        })?;
        relationship_id
            .and_then(|id| self.related(|relationship| relationship.id == id))
            .ok_or_else(|| {
                kind.damaged(
                    &self.relationships_part,
                    format!("no part is named for sheet \"{sheet_name}\""),
                )
            })
    }
}

struct Relationship {
    id: String,
    kind: String,
    target: String,
    external: bool,
}

fn read_relationships(part: &str, xml: &str) -> Result<Vec<Relationship>, Unreadable> {
    let mut relationships = Vec::new();
    walk_part(SpreadsheetKind::Excel, part, xml, |_, element| {
        if local_name(element) == "Relationship" {
            relationships.push(Relationship {
                id: attribute(element, "Id").unwrap_or_default(),
                kind: attribute(element, "Type").unwrap_or_default(),
                target: attribute(element, "Target").unwrap_or_default(),
                external: attribute(element, "TargetMode").as_deref() == Some("External"),
            });
        }
    })?;
    Ok(relationships)
}

/// A relationship's target as a part name: relative to the source's folder unless
/// it starts with a slash.
fn resolve_target(directory: &str, target: &str) -> String {
    let target = target.replace('\\', "/");
    let mut segments: Vec<&str> = match target.starts_with('/') {
        true => Vec::new(),
        false => directory.split('/').filter(|s| !s.is_empty()).collect(),
    };
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    segments.join("/")
}

/// What the sheet part says beyond the cells calamine reads.
#[derive(Debug, Default)]
struct ExcelSheetLayout {
    /// Formats of rows marked `customFormat`, which cells absent from the file take.
    row_formats: HashMap<u32, usize>,
    hidden_rows: Vec<u32>,
    columns: Vec<ExcelColumns>,
    conditional_formatting: bool,
}

/// One `<col>`: a run of columns (0-based, inclusive) with a format or hidden.
#[derive(Debug)]
struct ExcelColumns {
    first: u32,
    last: u32,
    format: Option<usize>,
    hidden: bool,
}

fn read_excel_sheet_layout(
    reader: &mut XmlReader<&mut dyn BufRead>,
    part: &str,
) -> Result<ExcelSheetLayout, Unreadable> {
    let kind = SpreadsheetKind::Excel;
    let mut layout = ExcelSheetLayout::default();
    let mut buffer = Vec::new();
    let mut in_sheet_data = false;
    let mut next_row = 0u32;
    loop {
        buffer.clear();
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|error| kind.damaged(part, error))?;
        let element = match &event {
            Event::Start(element) | Event::Empty(element) => element,
            Event::End(end) => {
                if end.local_name().as_ref() == "sheetData" {
                    in_sheet_data = false;
                }
                continue;
            }
            Event::Eof => return Ok(layout),
            _ => continue,
        };
        match element.local_name().as_ref() {
            "sheetData" => in_sheet_data = matches!(event, Event::Start(_)),
            "row" if in_sheet_data => {
                // Rows without a number follow the one before, as calamine counts them.
                let row = number_attribute(element, "r")
                    .and_then(|r| u32::try_from(r).ok())
                    .and_then(|r| r.checked_sub(1))
                    .unwrap_or(next_row);
                next_row = row.saturating_add(1);
                if row >= ROW_LIMIT {
                    continue;
                }
                if flag_attribute(element, "hidden") {
                    layout.hidden_rows.push(row);
                }
                if flag_attribute(element, "customFormat") {
                    if let Some(format) = number_attribute(element, "s")
                        .and_then(|format| usize::try_from(format).ok())
                    {
                        layout.row_formats.insert(row, format);
                    }
                }
            }
            // Excel writes at most one `<col>` per column; more can only stall the reader.
            "col" if !in_sheet_data && layout.columns.len() < COLUMN_LIMIT as usize => {
                let first = number_attribute(element, "min").unwrap_or(1).max(1) - 1;
                let last = number_attribute(element, "max").unwrap_or(first + 1).max(1) - 1;
                let (first, last) = (
                    first.min(u64::from(COLUMN_LIMIT)) as u32,
                    last.min(u64::from(COLUMN_LIMIT) - 1) as u32,
                );
                if first <= last {
                    layout.columns.push(ExcelColumns {
                        first,
                        last,
                        format: number_attribute(element, "style")
                            .and_then(|format| usize::try_from(format).ok()),
                        hidden: flag_attribute(element, "hidden"),
                    });
                }
            }
            "conditionalFormatting" => layout.conditional_formatting = true,
            _ => {}
        }
    }
}

fn build_excel_sheet(
    values: SheetValues,
    styles: &ExcelStyles,
    mut layout: ExcelSheetLayout,
) -> Result<SheetRead, Unreadable> {
    let kind = SpreadsheetKind::Excel;
    let name = chosen_name(&values.sheets, values.chosen);
    // The sheet reaches as far as its last text or coloured cell, and over any merged
    // range that starts in one; formats of whole rows and columns reach to the edge
    // of the sheet and so do not count.
    let mut extent = Extent::default();
    let mut marked: HashSet<(u32, u32)> = HashSet::new();
    let mut has_text = false;
    for (row, column, text, format) in &values.cells {
        let has_fill = styles.fill(*format).is_some();
        if !text.is_empty() || has_fill {
            extent.include(*row, *column);
            has_text |= !text.is_empty();
            if !values.merges.is_empty() {
                marked.insert((*row, *column));
            }
        }
    }
    if !has_text {
        return Err(refuse_empty(
            kind,
            &values.sheets,
            values.chosen,
            extent != Extent::default(),
        ));
    }
    for merge in &values.merges {
        if marked.contains(&(merge.top, merge.left)) {
            extent.include(merge.bottom, merge.right);
        }
    }
    drop(marked);
    extent.check(kind, &name)?;

    let mut column_formats: Vec<Option<usize>> = vec![None; extent.columns as usize];
    let mut hidden_columns = Vec::new();
    for columns in &layout.columns {
        for column in columns.first..=columns.last.min(extent.columns.saturating_sub(1)) {
            if let Some(slot) = column_formats.get_mut(column as usize) {
                if columns.format.is_some() {
                    *slot = columns.format;
                }
            }
            if columns.hidden && column < extent.columns {
                hidden_columns.push(column);
            }
        }
    }
    hidden_columns.sort_unstable();
    hidden_columns.dedup();
    let mut rows: Vec<Vec<Cell>> = (0..extent.rows)
        .map(|row| {
            let row_format = layout.row_formats.get(&row).copied();
            column_formats
                .iter()
                .map(|column_format| Cell {
                    fill: styles.fill(row_format.or(*column_format).unwrap_or(0)),
                    ..Cell::new("")
                })
                .collect()
        })
        .collect();
    let mut texts = Vec::with_capacity(values.cells.len());
    for (row, column, text, format) in values.cells {
        if !extent.contains(row, column) {
            continue;
        }
        if let Some(cell) = cell_mut(&mut rows, row, column) {
            cell.fill = styles.fill(format);
        }
        if !text.is_empty() {
            texts.push((row, column, text, format));
        }
    }
    place_values_and_merges(kind, &name, &mut rows, texts, &values.merges)?;
    layout.hidden_rows.retain(|&row| row < extent.rows);
    layout.hidden_rows.sort_unstable();
    layout.hidden_rows.dedup();
    Ok(SheetRead {
        sheets: values.sheets,
        chosen: values.chosen,
        rows,
        hidden_rows: layout.hidden_rows,
        hidden_columns,
        conditional_formatting: layout.conditional_formatting,
    })
}

// ---------------------------------------------------------------------------------
// OpenDocument.

fn read_ods_values(bytes: &[u8], requested: Option<&str>) -> Result<SheetValues, Unreadable> {
    let kind = SpreadsheetKind::OpenDocument;
    let mut workbook: Ods<_> = Ods::new(Cursor::new(bytes)).map_err(|error| match error {
        OdsError::Password => Unreadable::new(
            "the spreadsheet is protected by a password, so it cannot be read; open it in \
             LibreOffice Calc, remove the password, save it and import again",
        ),
        other => Unreadable::new(format!(
            "the spreadsheet could not be opened ({other}); open it in LibreOffice Calc, save \
             it again as .ods and import again"
        )),
    })?;
    let sheets = workbook.sheets_metadata().to_vec();
    let chosen = choose_sheet(kind, &sheets, requested)?;
    let name = chosen_name(&sheets, chosen);
    let range = workbook
        .worksheet_range(&name)
        .map_err(|error| kind.damaged(&format!("sheet \"{name}\""), error))?;
    let (top, left) = range.start().unwrap_or((0, 0));
    let cells = range
        .used_cells()
        .filter_map(|(row, column, value)| {
            let row = top.checked_add(u32::try_from(row).ok()?)?;
            let column = left.checked_add(u32::try_from(column).ok()?)?;
            Some((row, column, value_text(value), 0))
        })
        .filter(|(_, _, text, _)| !text.is_empty())
        .collect();
    Ok(SheetValues {
        sheets,
        chosen,
        cells,
        merges: Vec::new(),
    })
}

/// The table of the chosen sheet as `content.xml` lays it out, with repeats kept as
/// runs so that a million repeated empty rows cost one entry.
#[derive(Debug, Default)]
struct OdsLayout {
    found: bool,
    /// Style names used by the table, interned.
    style_names: Vec<String>,
    style_ids: HashMap<String, u32>,
    columns: Vec<OdsColumns>,
    rows: Vec<OdsRows>,
    conditional_formatting: bool,
}

#[derive(Debug)]
struct OdsColumns {
    first: u32,
    count: u32,
    default_style: Option<u32>,
    hidden: bool,
}

#[derive(Debug)]
struct OdsRows {
    first: u32,
    count: u32,
    default_style: Option<u32>,
    hidden: bool,
    cells: Vec<OdsCells>,
}

#[derive(Debug)]
struct OdsCells {
    first: u32,
    count: u32,
    style: Option<u32>,
    columns_spanned: u32,
    rows_spanned: u32,
}

impl OdsLayout {
    fn intern(&mut self, name: Option<String>) -> Option<u32> {
        let name = name?;
        if let Some(&id) = self.style_ids.get(&name) {
            return Some(id);
        }
        let id = u32::try_from(self.style_names.len()).ok()?;
        self.style_names.push(name.clone());
        self.style_ids.insert(name, id);
        Some(id)
    }
}

/// How many times an element repeats, at least once and never past `room`.
fn repeats(element: &quick_xml::events::BytesStart, attribute_name: &str, room: u32) -> u32 {
    let count = number_attribute(element, attribute_name)
        .unwrap_or(1)
        .max(1);
    count.min(u64::from(room)) as u32
}

fn read_ods_layout(
    reader: &mut XmlReader<&mut dyn BufRead>,
    sheet_name: &str,
    styles: &mut OdsCellStyles,
) -> Result<OdsLayout, Unreadable> {
    let kind = SpreadsheetKind::OpenDocument;
    let damaged = |error: quick_xml::Error| kind.damaged("content.xml", error);
    let mut layout = OdsLayout::default();
    let mut buffer = Vec::new();
    let mut styles_buffer = Vec::new();
    let mut table_depth = 0u32;
    let mut in_target = false;
    let mut next_row = 0u32;
    let mut next_column = 0u32;
    let mut row: Option<OdsRows> = None;
    let mut next_cell = 0u32;
    loop {
        buffer.clear();
        let event = reader.read_event_into(&mut buffer).map_err(damaged)?;
        let (element, opens) = match &event {
            Event::Start(element) => (element, true),
            Event::Empty(element) => (element, false),
            Event::End(end) => {
                match end.local_name().as_ref() {
                    "table" => {
                        if in_target && table_depth == 1 {
                            // The chosen table is complete; the rest of the part is other sheets.
                            return Ok(layout);
                        }
                        table_depth = table_depth.saturating_sub(1);
                    }
                    "table-row" if in_target && table_depth == 1 => {
                        if let Some(finished) = row.take().filter(|finished| finished.count > 0) {
                            next_row = next_row.saturating_add(finished.count);
                            layout.rows.push(finished);
                        }
                    }
                    _ => {}
                }
                continue;
            }
            Event::Eof => return Ok(layout),
            _ => continue,
        };
        let name = local_name(element);
        if name == "automatic-styles" && opens && table_depth == 0 {
            styles
                .read(reader, &mut styles_buffer, Some("automatic-styles"))
                .map_err(damaged)?;
            continue;
        }
        if name == "table" {
            let is_target =
                table_depth == 0 && attribute(element, "name").as_deref() == Some(sheet_name);
            layout.found |= is_target;
            if opens {
                table_depth += 1;
                in_target |= is_target;
            }
            continue;
        }
        if !in_target || table_depth != 1 {
            continue;
        }
        match name.as_str() {
            "table-column" => {
                let count = repeats(
                    element,
                    "number-columns-repeated",
                    COLUMN_LIMIT.saturating_sub(next_column),
                );
                if count > 0 {
                    let default_style =
                        layout.intern(attribute(element, "default-cell-style-name"));
                    layout.columns.push(OdsColumns {
                        first: next_column,
                        count,
                        default_style,
                        hidden: is_collapsed(element),
                    });
                    next_column += count;
                }
            }
            "table-row" => {
                let count = repeats(
                    element,
                    "number-rows-repeated",
                    ROW_LIMIT.saturating_sub(next_row),
                );
                let default_style = layout.intern(attribute(element, "default-cell-style-name"));
                let run = OdsRows {
                    first: next_row,
                    count,
                    default_style,
                    hidden: is_collapsed(element),
                    cells: Vec::new(),
                };
                next_cell = 0;
                if opens {
                    row = Some(run);
                } else if count > 0 {
                    next_row = next_row.saturating_add(count);
                    layout.rows.push(run);
                }
            }
            "table-cell" | "covered-table-cell" => {
                let Some(current) = row.as_mut() else {
                    continue;
                };
                let count = repeats(
                    element,
                    "number-columns-repeated",
                    COLUMN_LIMIT.saturating_sub(next_cell),
                );
                if count == 0 || current.count == 0 {
                    continue;
                }
                let style = attribute(element, "style-name");
                let (columns_spanned, rows_spanned) = match name.as_str() {
                    "table-cell" => (
                        span_attribute(element, "number-columns-spanned"),
                        span_attribute(element, "number-rows-spanned"),
                    ),
                    _ => (1, 1),
                };
                let style = layout.intern(style);
                if let Some(current) = row.as_mut() {
                    current.cells.push(OdsCells {
                        first: next_cell,
                        count,
                        style,
                        columns_spanned,
                        rows_spanned,
                    });
                }
                next_cell += count;
            }
            "conditional-formats" | "conditional-format" => layout.conditional_formatting = true,
            _ => {}
        }
    }
}

fn is_collapsed(element: &quick_xml::events::BytesStart) -> bool {
    matches!(
        attribute(element, "visibility").as_deref(),
        Some("collapse" | "filter")
    )
}

fn span_attribute(element: &quick_xml::events::BytesStart, name: &str) -> u32 {
    number_attribute(element, name)
        .unwrap_or(1)
        .clamp(1, u64::from(ROW_LIMIT)) as u32
}

fn build_ods_sheet(
    values: SheetValues,
    styles: &OdsCellStyles,
    layout: OdsLayout,
) -> Result<SheetRead, Unreadable> {
    let kind = SpreadsheetKind::OpenDocument;
    let name = chosen_name(&values.sheets, values.chosen);
    let backgrounds: Vec<Option<Rgb>> = layout
        .style_names
        .iter()
        .map(|style| styles.background(style))
        .collect();
    let conditional_formatting = layout.conditional_formatting
        || layout
            .style_names
            .iter()
            .any(|style| styles.is_conditional(style));
    let fill_of =
        |style: Option<u32>| style.and_then(|id| backgrounds.get(id as usize).copied().flatten());

    // The sheet reaches as far as its last text or coloured cell. LibreOffice writes
    // formatting given to whole rows or to the rest of the sheet as one last repeated
    // run of a row or of the table; such a run colours the cells it reaches but does
    // not make the plan wider or longer.
    let mut extent = Extent::default();
    for (row, column, _, _) in &values.cells {
        extent.include(*row, *column);
    }
    if values.cells.is_empty() {
        let coloured = layout.rows.iter().any(|rows| {
            rows.cells
                .iter()
                .any(|cells| fill_of(cells.style).is_some())
        });
        return Err(refuse_empty(kind, &values.sheets, values.chosen, coloured));
    }
    let texts: HashSet<(u32, u32)> = values.cells.iter().map(|(r, c, _, _)| (*r, *c)).collect();
    let last_rows = layout.rows.len().saturating_sub(1);
    let mut merges = Vec::new();
    for (rows_index, rows) in layout.rows.iter().enumerate() {
        let rest_of_table = rows_index == last_rows && rows.count > 1;
        let last_cells = rows.cells.len().saturating_sub(1);
        for (cells_index, cells) in rows.cells.iter().enumerate() {
            let rest_of_row = cells_index == last_cells && cells.count > 1;
            let coloured = fill_of(cells.style).is_some();
            if coloured && !rest_of_table && !rest_of_row {
                extent.include(rows.first + rows.count - 1, cells.first + cells.count - 1);
            }
            if cells.columns_spanned > 1 || cells.rows_spanned > 1 {
                'spans: for row in rows.first..rows.first + rows.count {
                    for column in cells.first..cells.first + cells.count {
                        if merges.len() >= MERGE_LIMIT {
                            break 'spans;
                        }
                        let merge = Merge {
                            top: row,
                            left: column,
                            bottom: row.saturating_add(cells.rows_spanned - 1),
                            right: column.saturating_add(cells.columns_spanned - 1),
                        };
                        if texts.contains(&(row, column))
                            || (coloured && !rest_of_table && !rest_of_row)
                        {
                            extent.include(merge.bottom, merge.right);
                        }
                        merges.push(merge);
                    }
                }
            }
        }
    }
    drop(texts);
    extent.check(kind, &name)?;

    let mut column_styles: Vec<Option<u32>> = vec![None; extent.columns as usize];
    let mut hidden_columns = Vec::new();
    for columns in &layout.columns {
        for column in columns.first..(columns.first + columns.count).min(extent.columns) {
            if let Some(slot) = column_styles.get_mut(column as usize) {
                *slot = columns.default_style;
            }
            if columns.hidden {
                hidden_columns.push(column);
            }
        }
    }
    let default_row: Vec<Cell> = column_styles
        .iter()
        .map(|&style| Cell {
            fill: fill_of(style),
            ..Cell::new("")
        })
        .collect();
    let mut rows: Vec<Vec<Cell>> = Vec::with_capacity(extent.rows as usize);
    let mut hidden_rows = Vec::new();
    for runs in &layout.rows {
        if runs.first >= extent.rows {
            break;
        }
        // Rows the table leaves out (there should be none) keep the columns' styles.
        while (rows.len() as u32) < runs.first {
            rows.push(default_row.clone());
        }
        let mut template: Vec<Cell> = column_styles
            .iter()
            .map(|&style| Cell {
                fill: fill_of(runs.default_style.or(style)),
                ..Cell::new("")
            })
            .collect();
        for cells in &runs.cells {
            for column in cells.first..(cells.first + cells.count).min(extent.columns) {
                if let Some(cell) = template.get_mut(column as usize) {
                    let column_style = column_styles.get(column as usize).copied().flatten();
                    cell.fill = fill_of(cells.style.or(runs.default_style).or(column_style));
                }
            }
        }
        for row in runs.first..(runs.first + runs.count).min(extent.rows) {
            if runs.hidden {
                hidden_rows.push(row);
            }
            rows.push(template.clone());
        }
    }
    while (rows.len() as u32) < extent.rows {
        rows.push(default_row.clone());
    }
    place_values_and_merges(kind, &name, &mut rows, values.cells, &merges)?;
    Ok(SheetRead {
        sheets: values.sheets,
        chosen: values.chosen,
        rows,
        hidden_rows,
        hidden_columns,
        conditional_formatting,
    })
}

#[cfg(test)]
mod tests;
