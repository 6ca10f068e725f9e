//! Reading one sheet of an Excel workbook: the values calamine reads, the sheet
//! part's row and column formats, hidden rows and columns and conditional formatting
//! (streamed, since calamine does not give them), and the grid built from both with
//! every cell's fill.
//!
//! It transcribes only: it never decides what a value or colour means, and refuses a
//! sheet too large to be a plan before spending memory on it.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Cursor};

use calamine::{Data, DataRef, Reader as _, Xlsx, XlsxError};
use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;

use super::super::grid::{Cell, Unreadable};
use super::super::office::number_attribute;
use super::cell_text::{value_text, with_plain_line_breaks};
use super::merges::{cell_mut, place_values_and_merges, Merge};
use super::sheets::{choose_sheet, chosen_name, refuse_empty, sheet_list};
use super::style::{flag_attribute, ExcelStyles, SpreadsheetKind};
use super::{Extent, SheetRead, SheetValues, CELL_LIMIT, COLUMN_LIMIT, ROW_LIMIT};

pub(super) fn read_excel_values(
    bytes: &[u8],
    requested: Option<&str>,
) -> Result<SheetValues, Unreadable> {
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
            // Text past the limits refuses the sheet at once, before calamine reads on
            // through a million rows.
            if !text.is_empty() && (row >= ROW_LIMIT || column >= COLUMN_LIMIT) {
                let mut reach = Extent::default();
                reach.include(row, column);
                reach.check(kind, &name)?;
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

/// What the sheet part says beyond the cells calamine reads.
#[derive(Debug, Default)]
pub(super) struct ExcelSheetLayout {
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

pub(super) fn read_excel_sheet_layout(
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
                let row = number_attribute::<u64>(element, "r")
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
                    if let Some(format) = number_attribute::<u64>(element, "s")
                        .and_then(|format| usize::try_from(format).ok())
                    {
                        layout.row_formats.insert(row, format);
                    }
                }
            }
            // Excel writes at most one `<col>` per column; more can only stall the reader.
            "col" if !in_sheet_data && layout.columns.len() < COLUMN_LIMIT as usize => {
                let first = number_attribute::<u64>(element, "min").unwrap_or(1).max(1) - 1;
                let last = number_attribute::<u64>(element, "max")
                    .unwrap_or(first + 1)
                    .max(1)
                    - 1;
                let (first, last) = (
                    first.min(u64::from(COLUMN_LIMIT)) as u32,
                    last.min(u64::from(COLUMN_LIMIT) - 1) as u32,
                );
                if first <= last {
                    layout.columns.push(ExcelColumns {
                        first,
                        last,
                        format: number_attribute::<u64>(element, "style")
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

pub(super) fn build_excel_sheet(
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
