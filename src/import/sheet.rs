//! Reading one sheet of an Excel (`.xlsx`, `.xlsm`) or OpenDocument (`.ods`)
//! spreadsheet into a [`Grid`]: every row from row 1 to the last one used, every
//! column from A to the last one used, each cell with the text a person sees in it and
//! the fill colour it shows, since many plans record RAG status only as a cell's fill.
//!
//! calamine reads the values and the sheet list; this module adds what calamine does
//! not give in the form the programs display it: fills (Excel's styles, theme and tints,
//! OpenDocument cell styles, in `sheet_style`), row and column formats, hidden rows and
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
use super::sheet_style::{
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
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Write;

    use proptest::prelude::*;
    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;

    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const RELATIONSHIPS: &str =
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

    /// A zip package of the given parts, in order, the first stored uncompressed (as
    /// OpenDocument requires of `mimetype`).
    fn package(parts: &[(&str, String)]) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (index, (name, text)) in parts.iter().enumerate() {
            let method = match index {
                0 => CompressionMethod::Stored,
                _ => CompressionMethod::Deflated,
            };
            let options = SimpleFileOptions::default().compression_method(method);
            zip.start_file(*name, options).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// The Office 2013–2022 colour scheme, as Excel writes it.
    fn theme() -> String {
        let slots = [
            ("dk1", r#"<a:sysClr val="windowText" lastClr="000000"/>"#),
            ("lt1", r#"<a:sysClr val="window" lastClr="FFFFFF"/>"#),
            ("dk2", r#"<a:srgbClr val="44546A"/>"#),
            ("lt2", r#"<a:srgbClr val="E7E6E6"/>"#),
            ("accent1", r#"<a:srgbClr val="4472C4"/>"#),
            ("accent2", r#"<a:srgbClr val="ED7D31"/>"#),
            ("accent3", r#"<a:srgbClr val="A5A5A5"/>"#),
            ("accent4", r#"<a:srgbClr val="FFC000"/>"#),
            ("accent5", r#"<a:srgbClr val="5B9BD5"/>"#),
            ("accent6", r#"<a:srgbClr val="70AD47"/>"#),
            ("hlink", r#"<a:srgbClr val="0563C1"/>"#),
            ("folHlink", r#"<a:srgbClr val="954F72"/>"#),
        ];
        let scheme: String = slots
            .iter()
            .map(|(slot, colour)| format!("<a:{slot}>{colour}</a:{slot}>"))
            .collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme"><a:themeElements><a:clrScheme name="Office">{scheme}</a:clrScheme></a:themeElements></a:theme>"#
        )
    }

    /// Fills by cell format index: format 4 + i uses fill 2 + i below.
    const FILLS: [&str; 12] = [
        r#"<patternFill patternType="solid"><fgColor rgb="FFFFC000"/><bgColor indexed="64"/></patternFill>"#,
        r#"<patternFill patternType="solid"><fgColor theme="9" tint="0.59999389629810485"/><bgColor indexed="64"/></patternFill>"#,
        r#"<patternFill patternType="solid"><fgColor theme="4"/></patternFill>"#,
        r#"<patternFill patternType="solid"><fgColor theme="9" tint="-0.249977111117893"/></patternFill>"#,
        r#"<patternFill patternType="solid"><fgColor indexed="10"/></patternFill>"#,
        r#"<patternFill patternType="solid"><fgColor indexed="11"/></patternFill>"#,
        r#"<patternFill patternType="solid"><fgColor indexed="13"/></patternFill>"#,
        r#"<patternFill patternType="solid"><fgColor indexed="22"/></patternFill>"#,
        r#"<patternFill patternType="solid"><fgColor indexed="64"/></patternFill>"#,
        r#"<gradientFill degree="90"><stop position="0"><color rgb="FF00B050"/></stop><stop position="1"><color theme="0"/></stop></gradientFill>"#,
        r#"<patternFill patternType="solid"><bgColor rgb="FF92D050"/></patternFill>"#,
        r#"<patternFill patternType="none"><fgColor rgb="FFFF0000"/></patternFill>"#,
    ];

    /// Formats 0–3 are plain, date, date and time, and duration; 4–15 use `FILLS`.
    fn styles() -> String {
        let fills: String = FILLS
            .iter()
            .map(|fill| format!("<fill>{fill}</fill>"))
            .collect();
        let fill_formats: String = (0..FILLS.len())
            .map(|index| {
                format!(
                    r#"<xf numFmtId="0" fontId="0" fillId="{}" borderId="0" applyFill="1"/>"#,
                    index + 2
                )
            })
            .collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="[h]:mm:ss"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="{}"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>{fills}</fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="{}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>{fill_formats}</cellXfs><dxfs count="1"><dxf><fill><patternFill><bgColor rgb="FFFF0000"/></patternFill></fill></dxf></dxfs></styleSheet>"#,
            FILLS.len() + 2,
            FILLS.len() + 4
        )
    }

    /// A worksheet part with the given rows and whatever comes before and after them.
    fn worksheet(before: &str, rows: &str, after: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">{before}<sheetData>{rows}</sheetData>{after}</worksheet>"#
        )
    }

    /// An Excel workbook of (name, state, worksheet XML) sheets, with shared strings.
    /// The sheet parts are deliberately not named sheet1.xml, sheet2.xml … in order.
    fn xlsx_with(sheets: &[(&str, &str, String)], shared_strings: &[&str]) -> Vec<u8> {
        xlsx_styled(sheets, shared_strings, &styles(), &theme())
    }

    /// As [`xlsx_with`], with the given styles and theme parts.
    fn xlsx_styled(
        sheets: &[(&str, &str, String)],
        shared_strings: &[&str],
        styles: &str,
        theme: &str,
    ) -> Vec<u8> {
        let count = sheets.len();
        let mut sheet_entries = String::new();
        let mut relationships = String::new();
        let mut parts: Vec<(String, String)> = Vec::new();
        for (index, (name, state, xml)) in sheets.iter().enumerate() {
            let id = format!("rId{}", 10 + index);
            let file = format!("part{}.xml", count - index);
            sheet_entries.push_str(&format!(
                r#"<sheet name="{name}" sheetId="{}" state="{state}" r:id="{id}"/>"#,
                index + 1
            ));
            relationships.push_str(&format!(
                r#"<Relationship Id="{id}" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/{file}"/>"#
            ));
            parts.push((format!("xl/worksheets/{file}"), xml.clone()));
        }
        relationships.push_str(&format!(
            r#"<Relationship Id="rId1" Type="{RELATIONSHIPS}/styles" Target="styles.xml"/><Relationship Id="rId2" Type="{RELATIONSHIPS}/theme" Target="theme/theme1.xml"/><Relationship Id="rId3" Type="{RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>"#
        ));
        let strings: String = shared_strings
            .iter()
            .map(|text| format!(r#"<si><t xml:space="preserve">{text}</t></si>"#))
            .collect();
        let mut all: Vec<(&str, String)> = vec![
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#.to_string(),
            ),
            (
                "_rels/.rels",
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
            ),
            (
                "xl/workbook.xml",
                format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>{sheet_entries}</sheets></workbook>"#),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{relationships}</Relationships>"#),
            ),
            ("xl/styles.xml", styles.to_string()),
            ("xl/theme/theme1.xml", theme.to_string()),
            (
                "xl/sharedStrings.xml",
                format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN}" count="{0}" uniqueCount="{0}">{strings}</sst>"#, shared_strings.len()),
            ),
        ];
        for (name, xml) in &parts {
            all.push((name.as_str(), xml.clone()));
        }
        package(&all)
    }

    fn xlsx(rows: &str) -> Vec<u8> {
        xlsx_with(&[("Plan", "visible", worksheet("", rows, ""))], &[])
    }

    /// An inline-string cell, an optionally styled value cell and a row of cells.
    fn text(reference: &str, text: &str) -> String {
        format!(
            r#"<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>"#
        )
    }

    fn value(reference: &str, format: usize, value: &str) -> String {
        format!(r#"<c r="{reference}" s="{format}"><v>{value}</v></c>"#)
    }

    fn row(number: u32, cells: &[String]) -> String {
        format!(r#"<row r="{number}">{}</row>"#, cells.concat())
    }

    fn texts(row: &Row) -> Vec<&str> {
        row.cells.iter().map(|cell| cell.text.as_str()).collect()
    }

    fn fills(row: &Row) -> Vec<Option<Rgb>> {
        row.cells.iter().map(|cell| cell.fill).collect()
    }

    fn hex(text: &str) -> Option<Rgb> {
        Rgb::from_hex(text)
    }

    fn sheet_at(row: usize) -> RowAt {
        RowAt { table: None, row }
    }

    #[test]
    fn values_of_each_type_keep_their_own_rows_and_columns() {
        let rows = [
            row(
                3,
                &[text("B3", "Ref"), text("C3", "Action"), text("D3", "Due")],
            ),
            row(
                4,
                &[
                    value("B4", 0, "12"),
                    r#"<c r="C4" t="s"><v>0</v></c>"#.to_string(),
                    value("D4", 1, "45383"),
                    value("E4", 2, "45383.4375"),
                ],
            ),
            row(
                5,
                &[
                    value("B5", 0, "1.1"),
                    value("C5", 0, "0.30000000000000004"),
                    value("D5", 2, "45383"),
                    value("E5", 2, "0.5"),
                    value("F5", 3, "1.5"),
                ],
            ),
            row(
                7,
                &[
                    r#"<c r="B7" t="b"><v>1</v></c>"#.to_string(),
                    r#"<c r="C7" t="b"><v>0</v></c>"#.to_string(),
                    r#"<c r="D7" t="e"><f>1/0</f><v>#DIV/0!</v></c>"#.to_string(),
                    r#"<c r="E7" t="e"><v>#N/A</v></c>"#.to_string(),
                    r#"<c r="F7"><f>1+1</f><v>2</v></c>"#.to_string(),
                    r#"<c r="G7" t="str"><f>"G"&amp;"reen"</f><v>Green</v></c>"#.to_string(),
                ],
            ),
        ]
        .concat();
        let book = xlsx_with(
            &[("Plan", "visible", worksheet("", &rows, ""))],
            &["Line one_x000D_\nLine two\nLine three"],
        );
        let grid = read_xlsx(&book, None).unwrap();
        assert_eq!(grid.description, "Excel workbook, sheet \"Plan\"");
        assert!(grid.lettered_columns);
        assert!(grid.notes.is_empty(), "{:?}", grid.notes);
        let numbers: Vec<RowAt> = grid.rows.iter().map(|row| row.at).collect();
        assert_eq!(numbers, (1..=7).map(sheet_at).collect::<Vec<_>>());
        for row in &grid.rows {
            assert_eq!(row.cells.len(), 7, "columns A to G on every row");
        }
        assert!(grid.rows[0].is_blank() && grid.rows[1].is_blank() && grid.rows[5].is_blank());
        assert_eq!(
            texts(&grid.rows[2]),
            ["", "Ref", "Action", "Due", "", "", ""]
        );
        assert_eq!(
            texts(&grid.rows[3]),
            [
                "",
                "12",
                "Line one\nLine two\nLine three",
                "2024-04-01",
                "2024-04-01 10:30",
                "",
                ""
            ]
        );
        assert_eq!(
            texts(&grid.rows[4]),
            ["", "1.1", "0.3", "2024-04-01", "12:00", "36:00", ""]
        );
        assert_eq!(
            texts(&grid.rows[6]),
            ["", "TRUE", "FALSE", "#DIV/0!", "#N/A", "2", "Green"]
        );
        assert_eq!(grid.rows[2].cells[1], Cell::new("Ref"));
    }

    fn three_sheets() -> Vec<u8> {
        let sheet = |label: &str| worksheet("", &row(1, &[text("A1", label)]), "");
        xlsx_with(
            &[
                ("Lists", "hidden", sheet("lists")),
                ("Plan", "visible", sheet("plan")),
                ("Notes", "visible", sheet("notes")),
            ],
            &[],
        )
    }

    #[test]
    fn the_first_visible_sheet_is_read_and_the_others_are_listed() {
        let grid = read_xlsx(&three_sheets(), None).unwrap();
        assert_eq!(texts(&grid.rows[0]), ["plan"]);
        assert_eq!(grid.description, "Excel workbook, sheet \"Plan\"");
        assert_eq!(
            grid.notes,
            [
                "The workbook has 3 sheets (\"Lists\" (hidden), \"Plan\", \"Notes\"); \"Plan\" \
                 was read. Choose another with --sheet NAME."
            ]
        );
    }

    #[test]
    fn a_sheet_is_chosen_by_name_in_any_case_and_an_unknown_name_lists_the_sheets() {
        let book = three_sheets();
        let grid = read_xlsx(&book, Some("  nOTES ")).unwrap();
        assert_eq!(texts(&grid.rows[0]), ["notes"]);
        assert_eq!(grid.description, "Excel workbook, sheet \"Notes\"");
        assert!(grid.notes[0].contains("\"Notes\" was read"));
        let hidden = read_xlsx(&book, Some("lists")).unwrap();
        assert_eq!(texts(&hidden.rows[0]), ["lists"]);
        assert_eq!(
            read_xlsx(&book, Some("Actions")).unwrap_err().message,
            "the workbook has no sheet \"Actions\"; its sheets are \"Lists\" (hidden), \"Plan\", \
             \"Notes\"; choose one with --sheet NAME"
        );
    }

    #[test]
    fn a_priority_row_merged_across_keeps_columns_aligned() {
        let rows = [
            row(
                1,
                &[text("A1", "Ref"), text("B1", "Action"), text("C1", "RAG")],
            ),
            row(
                2,
                &[
                    r#"<c r="A2" s="6" t="inlineStr"><is><t>Priority 1: Early help</t></is></c>"#
                        .to_string(),
                    r#"<c r="B2" s="6"/>"#.to_string(),
                    r#"<c r="C2" s="6"/>"#.to_string(),
                ],
            ),
            row(
                3,
                &[text("A3", "1.1"), text("B3", "Audit"), text("C3", "G")],
            ),
        ]
        .concat();
        let book = xlsx_with(
            &[(
                "Plan",
                "visible",
                worksheet(
                    "",
                    &rows,
                    r#"<mergeCells count="1"><mergeCell ref="A2:C2"/></mergeCells>"#,
                ),
            )],
            &[],
        );
        let grid = read_xlsx(&book, None).unwrap();
        let fill = hex("4472C4");
        assert_eq!(
            grid.rows[1].cells,
            vec![
                Cell {
                    text: "Priority 1: Early help".into(),
                    fill,
                    span: 3,
                    covered: false
                },
                Cell {
                    text: String::new(),
                    fill,
                    span: 1,
                    covered: true
                },
                Cell {
                    text: String::new(),
                    fill,
                    span: 1,
                    covered: true
                },
            ]
        );
        assert_eq!(texts(&grid.rows[2]), ["1.1", "Audit", "G"]);
    }

    #[test]
    fn a_cell_merged_down_copies_its_text_into_each_row() {
        let rows = [
            row(
                1,
                &[
                    text("A1", "Ref"),
                    text("B1", "Lead"),
                    text("C1", "Due"),
                    text("D1", "Notes"),
                ],
            ),
            row(
                2,
                &[
                    text("A2", "1.1"),
                    r#"<c r="B2" s="5" t="inlineStr"><is><t>Head of Service</t></is></c>"#
                        .to_string(),
                    text("C2", "March"),
                ],
            ),
            row(3, &[text("A3", "1.2"), r#"<c r="B3" s="5"/>"#.to_string()]),
            row(4, &[text("A4", "1.3")]),
            row(5, &[text("A5", "2.1"), text("B5", "Chair")]),
        ]
        .concat();
        let merges = r#"<mergeCells count="2"><mergeCell ref="B2:B4"/><mergeCell ref="C2:D3"/></mergeCells>"#;
        let book = xlsx_with(&[("Plan", "visible", worksheet("", &rows, merges))], &[]);
        let grid = read_xlsx(&book, None).unwrap();
        let green = hex("C6E0B4");
        let lead = |row: usize| grid.rows[row].cells[1].clone();
        assert_eq!(
            lead(1),
            Cell {
                text: "Head of Service".into(),
                fill: green,
                span: 1,
                covered: false
            }
        );
        for row in [2, 3] {
            assert_eq!(
                lead(row),
                Cell {
                    text: "Head of Service".into(),
                    fill: green,
                    span: 1,
                    covered: true
                }
            );
        }
        assert_eq!(lead(4), Cell::new("Chair"));
        // A range merged both across and down: the top row as a merge across, the
        // row below with the text in its first cell.
        assert_eq!(grid.rows[1].cells[2].span, 2);
        assert_eq!(texts(&grid.rows[1])[2..], ["March", ""]);
        assert!(grid.rows[1].cells[3].covered);
        assert_eq!(
            grid.rows[2].cells[2],
            Cell {
                text: "March".into(),
                fill: None,
                span: 2,
                covered: true
            }
        );
        assert_eq!(
            grid.rows[2].cells[3],
            Cell {
                text: String::new(),
                fill: None,
                span: 1,
                covered: true
            }
        );
        assert_eq!(texts(&grid.rows[3]), ["1.3", "Head of Service", "", ""]);
    }

    #[test]
    fn fills_resolve_rgb_theme_tint_palette_and_gradients() {
        let cells: Vec<String> = (0..FILLS.len())
            .map(|index| {
                let reference = format!("{}1", column_letters(index + 1));
                text(&reference, &index.to_string()).replacen(
                    "<c ",
                    &format!(r#"<c s="{}" "#, index + 4),
                    1,
                )
            })
            .collect();
        let grid = read_xlsx(&xlsx(&row(1, &cells)), None).unwrap();
        assert_eq!(
            fills(&grid.rows[0]),
            [
                hex("FFC000"),
                hex("C6E0B4"),
                hex("4472C4"),
                Some(apply_tint_for_test("70AD47", -0.249977111117893)),
                hex("FF0000"),
                hex("00FF00"),
                hex("FFFF00"),
                hex("C0C0C0"),
                None,
                hex("00B050"),
                hex("92D050"),
                None,
            ]
        );
        // Green, Accent 6, Darker 25% is 548235 in Excel's palette.
        let darker = grid.rows[0].cells[3].fill.unwrap();
        assert!(
            darker.0.abs_diff(0x54) <= 1
                && darker.1.abs_diff(0x82) <= 1
                && darker.2.abs_diff(0x35) <= 1
        );
    }

    fn apply_tint_for_test(base: &str, tint: f64) -> Rgb {
        super::super::sheet_style::apply_tint(Rgb::from_hex(base).unwrap(), tint)
    }

    #[test]
    fn a_coloured_empty_cell_counts_and_row_and_column_formats_colour_the_cells_they_reach() {
        let rows = [
            row(1, &[text("A1", "Action"), text("B1", "RAG")]),
            row(
                2,
                &[
                    text("A2", "Audit"),
                    r#"<c r="B2" s="8"/>"#.to_string(),
                    r#"<c r="D2" s="10"/>"#.to_string(),
                ],
            ),
            r#"<row r="3" s="9" customFormat="1">"#.to_string()
                + &text("A3", "Train")
                + r#"<c r="B3" s="9"/></row>"#,
        ]
        .concat();
        // Column C is formatted grey as a whole; a format reaching to the edge of the
        // sheet colours the cells it reaches without making the sheet any wider.
        let columns = r#"<cols><col min="3" max="3" width="9" style="11" customWidth="1"/><col min="5" max="16384" width="9" style="8"/></cols>"#;
        let book = xlsx_with(&[("Plan", "visible", worksheet(columns, &rows, ""))], &[]);
        let grid = read_xlsx(&book, None).unwrap();
        assert_eq!(grid.rows.len(), 3);
        assert_eq!(
            fills(&grid.rows[0]),
            [None, None, hex("C0C0C0"), None],
            "cells absent from the file take their column's format"
        );
        assert_eq!(
            fills(&grid.rows[1]),
            [None, hex("FF0000"), hex("C0C0C0"), hex("FFFF00")]
        );
        assert_eq!(texts(&grid.rows[1]), ["Audit", "", "", ""]);
        // A cell in the file without a format of its own shows none, whatever its
        // row's format (Excel writes the row's format into the cells it formats).
        assert_eq!(
            fills(&grid.rows[2]),
            [None, hex("00FF00"), hex("00FF00"), hex("00FF00")],
            "a row's own format wins over its columns'"
        );
        assert_eq!(
            fills(&grid.rows[2]).len(),
            4,
            "column formats to the edge of the sheet do not widen it"
        );
    }

    #[test]
    fn conditional_formatting_and_hidden_rows_and_columns_are_noted() {
        let rows = [
            row(
                1,
                &[
                    text("A1", "Ref"),
                    text("B1", "Action"),
                    text("C1", "RAG"),
                    text("D1", "Lead"),
                ],
            ),
            r#"<row r="2" hidden="1">"#.to_string() + &text("A2", "1.1") + "</row>",
            r#"<row r="3" hidden="1">"#.to_string() + &text("A3", "1.2") + "</row>",
            row(4, &[text("A4", "1.3")]),
            r#"<row r="5" hidden="true">"#.to_string() + &text("A5", "1.4") + "</row>",
            r#"<row r="20" hidden="1"/>"#.to_string(),
        ]
        .concat();
        let columns = r#"<cols><col min="2" max="2" width="0" hidden="1"/></cols>"#;
        let conditional = r#"<conditionalFormatting sqref="C2:C5"><cfRule type="cellIs" dxfId="0" priority="1" operator="equal"><formula>"R"</formula></cfRule></conditionalFormatting>"#;
        let book = xlsx_with(
            &[("Plan", "visible", worksheet(columns, &rows, conditional))],
            &[],
        );
        let grid = read_xlsx(&book, None).unwrap();
        assert_eq!(
            grid.rows.len(),
            5,
            "hidden rows are read and the empty row 20 is not"
        );
        assert_eq!(texts(&grid.rows[1])[0], "1.1");
        assert_eq!(
            grid.notes,
            [
                "The sheet colours cells by conditional formatting, which is not read; statuses \
                 come from the cells' own text and fill.",
                "Rows 2–3 and 5 and column B are hidden in the sheet; they were read all the same.",
            ]
        );
    }

    #[test]
    fn hidden_notes_name_runs_and_sum_up_long_lists() {
        assert_eq!(
            hidden_note(&[3], &[]).unwrap(),
            "Row 4 is hidden in the sheet; it was read all the same."
        );
        assert_eq!(
            hidden_note(&[], &[2, 3, 4, 26]).unwrap(),
            "Columns C–E and AA are hidden in the sheet; they were read all the same."
        );
        let many: Vec<u32> = (0..40).map(|row| row * 2).collect();
        let note = hidden_note(&many, &[]).unwrap();
        assert!(note.starts_with("Rows 1, 3, 5,"), "{note}");
        assert!(note.contains("and 30 more are hidden"), "{note}");
        assert_eq!(hidden_note(&[], &[]), None);
    }

    #[test]
    fn an_empty_sheet_is_refused_naming_the_others() {
        let book = xlsx_with(
            &[
                ("Plan", "visible", worksheet("", "", "")),
                (
                    "Actions",
                    "visible",
                    worksheet("", &row(1, &[text("A1", "x")]), ""),
                ),
            ],
            &[],
        );
        assert_eq!(
            read_xlsx(&book, None).unwrap_err().message,
            "sheet \"Plan\" is empty; the workbook's other sheets are \"Actions\": choose one \
             with --sheet NAME"
        );
        let coloured = xlsx(&row(2, &[r#"<c r="B2" s="8"/>"#.to_string()]));
        assert_eq!(
            read_xlsx(&coloured, None).unwrap_err().message,
            "sheet \"Plan\" has no text in any cell, only colours and the workbook has no other \
             sheet; check that this is the file that holds the plan"
        );
    }

    #[test]
    fn files_that_are_not_workbooks_say_what_they_are() {
        let not_zip = read_xlsx(b"Ref,Action\n1,Audit\n", None)
            .unwrap_err()
            .message;
        assert!(
            not_zip.starts_with("the file is not an Excel workbook (it is not a zip package"),
            "{not_zip}"
        );
        let mut compound = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        compound.extend_from_slice(&[0; 512]);
        assert!(read_xlsx(&compound, None)
            .unwrap_err()
            .message
            .contains("older Excel .xls"));
        let spreadsheet = ods(&table("Plan", "", &ods_row(&[ods_text("x")])), "", "");
        assert!(read_xlsx(&spreadsheet, None)
            .unwrap_err()
            .message
            .contains("OpenDocument spreadsheet, not an Excel workbook"));
        assert!(read_ods(&xlsx(&row(1, &[text("A1", "x")])), None)
            .unwrap_err()
            .message
            .contains("Excel workbook, not an OpenDocument"));
    }

    #[test]
    fn damaged_styles_are_refused_with_the_part_named() {
        let broken = styles().replace("</fills>", "</fill>");
        let sheets = [(
            "Plan",
            "visible",
            worksheet("", &row(1, &[text("A1", "x")]), ""),
        )];
        let book = xlsx_styled(&sheets, &[], &broken, &theme());
        let message = read_xlsx(&book, None).unwrap_err().message;
        assert!(message.contains("xl/styles.xml"), "{message}");
        assert!(
            message.ends_with("open it in Excel, save it again as .xlsx and import again"),
            "{message}"
        );
    }

    #[test]
    fn numbers_dates_and_durations_are_written_as_people_read_them() {
        assert_eq!(number_text(12.0), "12");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(1.1), "1.1");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(1234567.125), "1234567.125");
        assert_eq!(number_text(1e20), "100000000000000000000");
        assert_eq!(iso_date_text("2024-03-01"), "2024-03-01");
        assert_eq!(iso_date_text("2024-03-01T00:00:00"), "2024-03-01");
        assert_eq!(iso_date_text("2024-03-01T10:30:00.000"), "2024-03-01 10:30");
        assert_eq!(iso_date_text("soon"), "soon");
        assert_eq!(iso_duration_text("PT10H30M00S"), "10:30");
        assert_eq!(iso_duration_text("PT36H00M15S"), "36:00:15");
        assert_eq!(iso_duration_text("-P1DT1H"), "-25:00");
        assert_eq!(iso_duration_text("PT1X"), "PT1X");
        assert_eq!(with_plain_line_breaks("a\r\nb\rc\nd"), "a\nb\nc\nd");
    }

    #[test]
    fn relationship_targets_resolve_like_paths() {
        assert_eq!(
            resolve_target("xl", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve_target("xl", "/xl/worksheets/a.xml"),
            "xl/worksheets/a.xml"
        );
        assert_eq!(resolve_target("xl/sub", "../styles.xml"), "xl/styles.xml");
        assert_eq!(resolve_target("", "xl\\workbook.xml"), "xl/workbook.xml");
    }

    // OpenDocument.

    const OFFICE: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0""#;

    /// An OpenDocument spreadsheet with the given tables, automatic styles and common
    /// styles.
    fn ods(tables: &str, automatic_styles: &str, common_styles: &str) -> Vec<u8> {
        let content = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {OFFICE} office:version="1.3"><office:automatic-styles>{automatic_styles}</office:automatic-styles><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"#
        );
        let styles = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><office:document-styles {OFFICE} office:version="1.3"><office:styles>{common_styles}</office:styles></office:document-styles>"#
        );
        package(&[
            ("mimetype", "application/vnd.oasis.opendocument.spreadsheet".to_string()),
            (
                "META-INF/manifest.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#.to_string(),
            ),
            ("styles.xml", styles),
            ("content.xml", content),
        ])
    }

    fn table(name: &str, columns: &str, rows: &str) -> String {
        format!(r#"<table:table table:name="{name}">{columns}{rows}</table:table>"#)
    }

    fn ods_row(cells: &[String]) -> String {
        format!("<table:table-row>{}</table:table-row>", cells.concat())
    }

    fn ods_text(text: &str) -> String {
        format!(
            r#"<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
        )
    }

    fn ods_empty(attributes: &str) -> String {
        format!("<table:table-cell {attributes}/>")
    }

    #[test]
    fn an_opendocument_sheet_keeps_colours_spans_and_repeats() {
        let automatic = r##"<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style><style:style style:name="ce1" style:family="table-cell" style:parent-style-name="Default"><style:table-cell-properties fo:background-color="#ff0000"/></style:style><style:style style:name="ce2" style:family="table-cell" style:parent-style-name="Good"/><style:style style:name="ce3" style:family="table-cell"><style:table-cell-properties fo:background-color="transparent"/></style:style><style:style style:name="ce4" style:family="table-cell"><style:table-cell-properties fo:background-color="#ffff00"/></style:style>"##;
        let common = r##"<style:style style:name="Default" style:family="table-cell"/><style:style style:name="Good" style:family="table-cell" style:parent-style-name="Default"><style:table-cell-properties fo:background-color="#ccffcc"/></style:style>"##;
        let columns = r#"<table:table-column table:number-columns-repeated="2" table:default-cell-style-name="Default"/><table:table-column table:default-cell-style-name="ce4"/><table:table-column table:number-columns-repeated="1021" table:default-cell-style-name="Default"/>"#;
        let rows = [
            ods_row(&[ods_text("Ref"), ods_text("Action"), ods_text("RAG"), ods_empty(r#"table:number-columns-repeated="1021""#)]),
            // A priority row spanning three columns, coloured red.
            ods_row(&[
                r#"<table:table-cell table:style-name="ce1" table:number-columns-spanned="3" table:number-rows-spanned="1" office:value-type="string"><text:p>Priority 1</text:p></table:table-cell><table:covered-table-cell table:number-columns-repeated="2" table:style-name="ce1"/>"#.to_string(),
            ]),
            // Two identical rows written once, with a cell repeated across two columns.
            r#"<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="2" office:value-type="string"><text:p>same</text:p></table:table-cell><table:table-cell table:style-name="ce2"/></table:table-row>"#.to_string(),
            // Blank rows between, then one with a transparent cell and a line break.
            r#"<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#.to_string(),
            ods_row(&[
                ods_empty(r#"table:style-name="ce3""#),
                r#"<table:table-cell office:value-type="float" office:value="0.45" calcext:value-type="percentage"><text:p>45%</text:p></table:table-cell>"#.to_string(),
                r#"<table:table-cell office:value-type="string"><text:p>one<text:line-break/>two</text:p><text:p>three</text:p></table:table-cell>"#.to_string(),
            ]),
            // The rest of the sheet, formatted as a whole by LibreOffice.
            r#"<table:table-row table:number-rows-repeated="1048568"><table:table-cell table:style-name="ce1" table:number-columns-repeated="1024"/></table:table-row>"#.to_string(),
        ]
        .concat();
        let spreadsheet = ods(
            &table("Plan", columns, &rows)
                .replace("<table:table ", r#"<table:table table:style-name="ta1" "#),
            automatic,
            common,
        );
        let grid = read_ods(&spreadsheet, None).unwrap();
        assert_eq!(grid.description, "OpenDocument spreadsheet, sheet \"Plan\"");
        assert!(grid.lettered_columns);
        assert!(grid.notes.is_empty(), "{:?}", grid.notes);
        assert_eq!(
            grid.rows.len(),
            8,
            "the repeated rest of the sheet is not expanded"
        );
        assert!(grid.rows.iter().all(|row| row.cells.len() == 3));
        assert_eq!(texts(&grid.rows[0]), ["Ref", "Action", "RAG"]);
        assert_eq!(
            fills(&grid.rows[0]),
            [None, None, hex("FFFF00")],
            "column default style"
        );
        let red = hex("FF0000");
        assert_eq!(
            grid.rows[1].cells,
            vec![
                Cell {
                    text: "Priority 1".into(),
                    fill: red,
                    span: 3,
                    covered: false
                },
                Cell {
                    text: String::new(),
                    fill: red,
                    span: 1,
                    covered: true
                },
                Cell {
                    text: String::new(),
                    fill: red,
                    span: 1,
                    covered: true
                },
            ]
        );
        for row in [2, 3] {
            assert_eq!(texts(&grid.rows[row]), ["same", "same", ""]);
            assert_eq!(
                fills(&grid.rows[row]),
                [None, None, hex("CCFFCC")],
                "inherited from Good"
            );
        }
        for row in 4..7 {
            assert!(grid.rows[row].is_blank());
            assert_eq!(grid.rows[row].at, sheet_at(row + 1));
        }
        assert_eq!(texts(&grid.rows[7]), ["", "0.45", "one\ntwo\nthree"]);
        assert_eq!(fills(&grid.rows[7]), [None, None, hex("FFFF00")]);
    }

    #[test]
    fn an_opendocument_cell_merged_down_copies_its_text() {
        let rows = [
            ods_row(&[ods_text("1.1"), r#"<table:table-cell table:number-rows-spanned="2" office:value-type="string"><text:p>Lead</text:p></table:table-cell>"#.to_string()]),
            ods_row(&[ods_text("1.2"), "<table:covered-table-cell/>".to_string()]),
            ods_row(&[ods_text("1.3"), ods_empty("")]),
        ]
        .concat();
        let grid = read_ods(&ods(&table("Plan", "", &rows), "", ""), None).unwrap();
        assert_eq!(texts(&grid.rows[1]), ["1.2", "Lead"]);
        assert!(grid.rows[1].cells[1].covered);
        assert!(!grid.rows[0].cells[1].covered);
        assert_eq!(texts(&grid.rows[2]), ["1.3", ""]);
    }

    #[test]
    fn opendocument_sheets_values_hidden_parts_and_conditions() {
        let automatic = r##"<style:style style:name="ta_hidden" style:family="table"><style:table-properties table:display="false"/></style:style><style:style style:name="ce9" style:family="table-cell"><style:map style:condition="cell-content()=&quot;R&quot;" style:apply-style-name="Bad" style:base-cell-address="Plan.C2"/></style:style>"##;
        let hidden = table("Lists", "", &ods_row(&[ods_text("list")])).replace(
            "<table:table ",
            r#"<table:table table:style-name="ta_hidden" "#,
        );
        let columns = r#"<table:table-column/><table:table-column table:visibility="collapse"/>"#;
        let rows = [
            ods_row(&[ods_text("Due"), ods_text("Done"), ods_text("RAG")]),
            r#"<table:table-row table:visibility="collapse">"#.to_string()
                + r#"<table:table-cell office:value-type="date" office:date-value="2024-04-01"><text:p>01/04/24</text:p></table:table-cell>"#
                + r#"<table:table-cell office:value-type="boolean" office:boolean-value="true"><text:p>TRUE</text:p></table:table-cell>"#
                + r#"<table:table-cell table:style-name="ce9" office:value-type="string"><text:p>R</text:p></table:table-cell></table:table-row>"#,
            ods_row(&[
                r#"<table:table-cell office:value-type="date" office:date-value="2024-04-01T10:30:00"><text:p>x</text:p></table:table-cell>"#.to_string(),
                r#"<table:table-cell office:value-type="time" office:time-value="PT09H15M00S"><text:p>09:15</text:p></table:table-cell>"#.to_string(),
                r#"<table:table-cell office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell>"#.to_string(),
            ]),
        ]
        .concat();
        let spreadsheet = ods(&(hidden + &table("Plan", columns, &rows)), automatic, "");
        let grid = read_ods(&spreadsheet, None).unwrap();
        assert_eq!(grid.description, "OpenDocument spreadsheet, sheet \"Plan\"");
        assert_eq!(texts(&grid.rows[1]), ["2024-04-01", "TRUE", "R"]);
        assert_eq!(texts(&grid.rows[2]), ["2024-04-01 10:30", "09:15", "3"]);
        assert_eq!(
            grid.notes,
            [
                "The spreadsheet has 2 sheets (\"Lists\" (hidden), \"Plan\"); \"Plan\" was read. \
                 Choose another with --sheet NAME.",
                "The sheet colours cells by conditional formatting, which is not read; statuses \
                 come from the cells' own text and fill.",
                "Row 2 and column B are hidden in the sheet; they were read all the same.",
            ]
        );
        let lists = read_ods(&spreadsheet, Some("LISTS")).unwrap();
        assert_eq!(texts(&lists.rows[0]), ["list"]);
        assert!(read_ods(&spreadsheet, Some("Plan2"))
            .unwrap_err()
            .message
            .starts_with(
            "the spreadsheet has no sheet \"Plan2\"; its sheets are \"Lists\" (hidden), \"Plan\""
        ));
        let empty = ods(&table("Plan", "", &ods_row(&[ods_empty("")])), "", "");
        assert!(read_ods(&empty, None)
            .unwrap_err()
            .message
            .starts_with("sheet \"Plan\" is empty"));
    }

    // Robustness.

    /// Every prefix and many single-bit changes of a valid file are refused or read,
    /// never a panic.
    fn survives_damage(file: &[u8], read: fn(&[u8], Option<&str>) -> Result<Grid, Unreadable>) {
        let step = (file.len() / 300).max(1);
        for length in (0..file.len()).step_by(step) {
            let _ = read(&file[..length], None);
        }
        for position in (0..file.len()).step_by(step) {
            for bit in [0, 3, 7] {
                let mut damaged = file.to_vec();
                damaged[position] ^= 1 << bit;
                let _ = read(&damaged, None);
            }
        }
    }

    fn sample_xlsx_rows() -> String {
        [
            row(1, &[text("A1", "Ref"), text("B1", "Action")]),
            row(2, &[value("A2", 4, "1.1"), text("B2", "Audit")]),
        ]
        .concat()
    }

    #[test]
    fn truncated_or_bit_flipped_workbooks_never_panic() {
        let book = xlsx_with(
            &[(
                "Plan",
                "visible",
                worksheet(
                    r#"<cols><col min="1" max="2" style="5"/></cols>"#,
                    &sample_xlsx_rows(),
                    r#"<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>"#,
                ),
            )],
            &["shared"],
        );
        assert!(read_xlsx(&book, None).is_ok());
        survives_damage(&book, read_xlsx);
    }

    #[test]
    fn truncated_or_bit_flipped_spreadsheets_never_panic() {
        let spreadsheet = ods(
            &table("Plan", r#"<table:table-column table:number-columns-repeated="2"/>"#, &ods_row(&[ods_text("Ref"), r#"<table:table-cell table:style-name="ce1" table:number-columns-spanned="2" office:value-type="string"><text:p>x</text:p></table:table-cell><table:covered-table-cell/>"#.to_string()])),
            r##"<style:style style:name="ce1" style:family="table-cell"><style:table-cell-properties fo:background-color="#00ff00"/></style:style>"##,
            "",
        );
        assert!(read_ods(&spreadsheet, None).is_ok());
        survives_damage(&spreadsheet, read_ods);
    }

    /// A change to one part's XML text: `cut` bytes removed at `at`, `insert` put there.
    fn mutate(xml: &str, at: usize, cut: usize, insert: &str) -> String {
        let mut bytes = xml.as_bytes().to_vec();
        let at = at % (bytes.len() + 1);
        let end = (at + cut).min(bytes.len());
        bytes.splice(at..end, insert.bytes());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    const FRAGMENTS: [&str; 12] = [
        "",
        "<",
        "\"",
        "r=\"XFD1048576\"",
        "s=\"99999999999\"",
        "<mergeCell ref=\"A1:XFD1048576\"/>",
        "<row r=\"0\">",
        "</sheetData>",
        "table:number-columns-repeated=\"99999999\" ",
        "table:number-rows-spanned=\"4294967295\" ",
        "<c r=\"A1\" s=\"1\" t=\"d\"><v>x</v></c>",
        "&#0;",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn mutated_workbook_parts_never_panic(
            part in 0usize..3,
            at in any::<usize>(),
            cut in 0usize..40,
            fragment in 0usize..FRAGMENTS.len(),
        ) {
            let mut sheet = worksheet(r#"<cols><col min="1" max="3" style="6" hidden="1"/></cols>"#, &sample_xlsx_rows(), r#"<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells><conditionalFormatting sqref="A1"/>"#);
            let mut styles_text = styles();
            let mut theme_text = theme();
            let insert = FRAGMENTS[fragment];
            match part {
                0 => sheet = mutate(&sheet, at, cut, insert),
                1 => styles_text = mutate(&styles_text, at, cut, insert),
                _ => theme_text = mutate(&theme_text, at, cut, insert),
            }
            let book = xlsx_styled(&[("Plan", "visible", sheet)], &[], &styles_text, &theme_text);
            let _ = read_xlsx(&book, None);
        }

        #[test]
        fn mutated_spreadsheet_content_never_panics(
            at in any::<usize>(),
            cut in 0usize..40,
            fragment in 0usize..FRAGMENTS.len(),
        ) {
            let rows = [
                ods_row(&[ods_text("Ref"), r#"<table:table-cell table:style-name="ce1" table:number-columns-spanned="2" table:number-rows-spanned="2" office:value-type="string"><text:p>x</text:p></table:table-cell><table:covered-table-cell/>"#.to_string()]),
                r#"<table:table-row table:number-rows-repeated="3" table:visibility="collapse"><table:table-cell table:number-columns-repeated="3" table:style-name="ce1"/></table:table-row>"#.to_string(),
            ].concat();
            let content = table("Plan", r#"<table:table-column table:number-columns-repeated="3" table:default-cell-style-name="ce1"/>"#, &rows);
            let content = mutate(&content, at, cut, FRAGMENTS[fragment]);
            let _ = read_ods(&ods(&content, r##"<style:style style:name="ce1" style:family="table-cell"><style:table-cell-properties fo:background-color="#00ff00"/></style:style>"##, ""), None);
        }
    }

    #[test]
    fn a_value_repeated_into_millions_of_cells_is_refused_before_it_is_expanded() {
        let rows = ods_row(&[r#"<table:table-cell table:number-columns-repeated="99999999" office:value-type="string"><text:p>x</text:p></table:table-cell>"#.to_string()]);
        let content = table("Plan", "", &rows);
        let started = std::time::Instant::now();
        let message = read_ods(&ods(&content, "", ""), None).unwrap_err().message;
        assert!(message.contains("more than 2000000 cells"), "{message}");
        assert!(started.elapsed().as_secs() < 5);
    }

    #[test]
    fn a_sheet_reaching_the_last_cell_is_refused_without_spending_memory() {
        let rows = [
            row(1, &[text("A1", "x")]),
            row(1048576, &[text("XFD1048576", "y")]),
        ]
        .concat();
        let message = read_xlsx(&xlsx(&rows), None).unwrap_err().message;
        assert!(
            message.starts_with("sheet \"Plan\" reaches row 1048576 and column XFD"),
            "{message}"
        );
    }

    #[test]
    fn a_large_plan_reads_quickly() {
        let rows: String = (1..=10_000u32)
            .map(|number| {
                let cells: Vec<String> = (0..12usize)
                    .map(|column| {
                        let reference = format!("{}{number}", column_letters(column + 1));
                        match column {
                            0 => value(&reference, 0, &number.to_string()),
                            11 => {
                                format!(r#"<c r="{reference}" s="{}"/>"#, 4 + number as usize % 4)
                            }
                            _ => text(&reference, &format!("Action {number} step {column}")),
                        }
                    })
                    .collect();
                row(number, &cells)
            })
            .collect();
        let book = xlsx(&rows);
        let started = std::time::Instant::now();
        let grid = read_xlsx(&book, None).unwrap();
        let elapsed = started.elapsed();
        assert_eq!(grid.rows.len(), 10_000);
        assert_eq!(grid.rows[9_999].cells.len(), 12);
        assert_eq!(grid.rows[9_999].cells[0].text, "10000");
        assert!(grid.rows[9_999].cells[11].fill.is_some());
        // Generous for an unoptimised test build on a busy machine; a release build
        // takes a small fraction of this.
        assert!(elapsed.as_secs_f64() < 5.0, "took {elapsed:?}");
    }
}
