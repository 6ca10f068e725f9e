//! The guards that stream a part before calamine reads it, because calamine would
//! build what the part asks for first and only then let us look:
//! - OpenDocument repeat counts: a few bytes of `content.xml` can ask for millions
//!   of cells with a value, which calamine writes out one by one;
//! - OpenDocument reach: calamine stores every empty cell to the left of a value in
//!   its row, and then the whole rectangle from the first value to the last, so a
//!   value in column 16,384 of each of a few thousand rows costs gigabytes;
//! - Excel shared strings: calamine keeps every string of `sharedStrings.xml` in
//!   memory and reserves room for as many as the part's `uniqueCount` claims.
//!
//! They only count. They never build cells, and never count the empty repeated
//! cells every saved sheet has by the million.

use std::io::BufRead;

use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;

use super::super::grid::{column_letters, Unreadable};
use super::super::office::{attribute, number_attribute};
use super::package::kind_noun;
use super::style::SpreadsheetKind;
use super::{CELL_LIMIT, COLUMN_LIMIT, LIMITS_IN_WORDS, ROW_LIMIT};

/// How many cells with a value an OpenDocument file may make by repeating them
/// (`number-columns-repeated` × `number-rows-repeated`): far beyond any plan, and
/// small enough that calamine, which writes every repeated value out, stays fast.
const MAX_REPEATED_VALUES: u64 = 2_000_000;
/// The most shared strings a workbook may have: a plan has a few thousand.
const SHARED_STRING_LIMIT: u64 = 1_000_000;
/// Excel's own limit on the text of one cell, in characters.
const CELL_TEXT_LIMIT: u64 = 32_767;
/// The most text all shared strings together may hold.
const SHARED_TEXT_LIMIT: u64 = 32 * 1024 * 1024;

/// How far one table of `content.xml` reaches with values, as calamine will
/// store it.
#[derive(Debug, Default)]
struct Reach {
    name: String,
    /// The row the next `table-row` starts at (repeats counted).
    next_row: u64,
    /// The column the next cell of the current row starts at.
    next_column: u64,
    /// The first and last rows with a value, and the leftmost and rightmost columns.
    rows: Option<(u64, u64)>,
    columns: Option<(u64, u64)>,
    /// The cells calamine stores row by row: each row up to its last value.
    stored: u64,
    /// The last column with a value in the current row, plus one.
    row_width: u64,
}

impl Reach {
    fn value_at(&mut self, row: u64, rows: u64, first: u64, last: u64) {
        let (top, bottom) = self.rows.unwrap_or((row, row));
        self.rows = Some((top.min(row), bottom.max(row + rows - 1)));
        let (left, right) = self.columns.unwrap_or((first, last));
        self.columns = Some((left.min(first), right.max(last)));
        self.row_width = self.row_width.max(last + 1);
    }

    /// Refuses the table once calamine would store more than a plan could need.
    fn check(&self) -> Result<(), Unreadable> {
        let (Some((top, bottom)), Some((left, right))) = (self.rows, self.columns) else {
            return Ok(());
        };
        let area = (bottom - top + 1).saturating_mul(right - left + 1);
        if bottom >= u64::from(ROW_LIMIT)
            || right >= u64::from(COLUMN_LIMIT)
            || area > CELL_LIMIT
            || self.stored > CELL_LIMIT
        {
            return Err(Unreadable::new(format!(
                "sheet \"{}\" has values as far as row {} and column {}, far more than any \
                 action plan ({LIMITS_IN_WORDS}); delete the unused rows and columns below and \
                 to the right of the plan, or copy the plan into a new {}, and import again",
                self.name,
                bottom + 1,
                column_letters(usize::try_from(right + 1).unwrap_or(usize::MAX)),
                kind_noun(SpreadsheetKind::OpenDocument)
            )));
        }
        Ok(())
    }
}

/// Refuses a spreadsheet whose repeat counts would make millions of cells with a
/// value, or whose values reach further than a plan's limits, before calamine
/// expands them (a hostile or damaged file could otherwise take minutes and
/// gigabytes). Empty repeated cells, which every saved sheet has by the million, cost
/// nothing and are not counted. Every table is checked: calamine reads the chosen
/// one, which is not known yet.
pub(super) fn check_ods_repeats(
    reader: &mut XmlReader<&mut dyn BufRead>,
) -> Result<(), Unreadable> {
    let kind = SpreadsheetKind::OpenDocument;
    let mut buffer = Vec::new();
    let mut rows_repeated = 1u64;
    let mut total = 0u64;
    let mut reach = Reach::default();
    let mut table_depth = 0usize;
    loop {
        buffer.clear();
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|error| kind.damaged("content.xml", error))?;
        let (element, has_children) = match &event {
            Event::Start(element) => (element, true),
            Event::Empty(element) => (element, false),
            Event::End(end) => {
                match end.local_name().as_ref() {
                    "table" => table_depth = table_depth.saturating_sub(1),
                    "table-row" if table_depth == 1 => {
                        reach.stored = reach.stored.saturating_add(reach.row_width);
                        reach.next_row = reach.next_row.saturating_add(rows_repeated);
                        reach.check()?;
                    }
                    _ => {}
                }
                continue;
            }
            Event::Eof => return Ok(()),
            _ => continue,
        };
        match element.local_name().as_ref() {
            "table" if has_children => {
                table_depth += 1;
                if table_depth == 1 {
                    reach = Reach {
                        name: attribute(element, "name").unwrap_or_default(),
                        ..Reach::default()
                    };
                }
            }
            "table-row" => {
                rows_repeated =
                    number_attribute::<u64>(element, "number-rows-repeated").unwrap_or(1);
                if table_depth == 1 {
                    reach.next_column = 0;
                    reach.row_width = 0;
                    if !has_children {
                        reach.next_row = reach.next_row.saturating_add(rows_repeated);
                    }
                }
            }
            "table-cell" | "covered-table-cell" => {
                let valued = has_children || attribute(element, "value-type").is_some();
                let columns = number_attribute::<u64>(element, "number-columns-repeated")
                    .unwrap_or(1)
                    .max(1);
                if valued {
                    total = total.saturating_add(columns.saturating_mul(rows_repeated));
                    if total > MAX_REPEATED_VALUES {
                        return Err(Unreadable::new(format!(
                            "the spreadsheet repeats cells with values into more than {MAX_REPEATED_VALUES} cells, far more than any plan has (the file is damaged or not a plan); open it in LibreOffice Calc, check its size, save it again and import again"
                        )));
                    }
                }
                if table_depth == 1 {
                    let first = reach.next_column;
                    reach.next_column = first.saturating_add(columns);
                    if valued {
                        let last = reach.next_column - 1;
                        reach.value_at(reach.next_row, rows_repeated.max(1), first, last);
                        reach.check()?;
                    }
                }
            }
            _ => {}
        }
    }
}

/// Refuses an Excel workbook's shared strings before calamine keeps them all: more
/// than a plan could use (by count, or as `uniqueCount` claims, which calamine
/// reserves room for), one text longer than Excel allows in a cell, or more text in
/// all than a plan holds.
pub(super) fn check_shared_strings(
    part: &str,
    reader: &mut XmlReader<&mut dyn BufRead>,
) -> Result<(), Unreadable> {
    let kind = SpreadsheetKind::Excel;
    let refuse = |what: String| {
        Unreadable::new(format!(
            "the workbook's shared strings ({part}) {what}, far more than any action plan; \
             copy the plan into a new workbook and import that"
        ))
    };
    let mut buffer = Vec::new();
    let (mut strings, mut in_string, mut characters, mut all_text) = (0u64, false, 0u64, 0u64);
    loop {
        buffer.clear();
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|error| kind.damaged(part, error))?;
        let added = match &event {
            Event::Start(element) | Event::Empty(element) => {
                match element.local_name().as_ref() {
                    "sst" => {
                        let claimed = number_attribute::<u64>(element, "uniqueCount").unwrap_or(0);
                        if claimed > SHARED_STRING_LIMIT {
                            return Err(refuse(format!(
                                "claim {claimed} texts, more than the limit of 1,000,000"
                            )));
                        }
                    }
                    "si" => {
                        strings += 1;
                        in_string = matches!(event, Event::Start(_));
                        characters = 0;
                        if strings > SHARED_STRING_LIMIT {
                            return Err(refuse(
                                "hold more than the limit of 1,000,000 texts".to_owned(),
                            ));
                        }
                    }
                    _ => {}
                }
                0
            }
            Event::End(end) => {
                if end.local_name().as_ref() == "si" {
                    in_string = false;
                }
                0
            }
            Event::Text(text) if in_string => text.chars().count() as u64,
            Event::CData(text) if in_string => text.chars().count() as u64,
            Event::GeneralRef(_) if in_string => 1,
            Event::Eof => return Ok(()),
            _ => 0,
        };
        characters += added;
        all_text += added;
        if characters > CELL_TEXT_LIMIT {
            return Err(refuse(format!(
                "hold text {strings} longer than 32,767 characters, Excel's own limit for a cell"
            )));
        }
        if all_text > SHARED_TEXT_LIMIT {
            return Err(refuse(
                "hold more than 32 MiB of text, the limit for a plan".to_owned(),
            ));
        }
    }
}
