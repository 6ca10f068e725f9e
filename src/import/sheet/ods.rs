//! Reading one sheet of an OpenDocument spreadsheet: the values calamine reads,
//! the table's layout streamed from `content.xml` (cell and row styles, hidden rows
//! and columns, spans, conditional formats) with repeats kept as runs, and the grid
//! built from both with every cell's background.
//!
//! It transcribes only: a run of a million repeated empty rows costs one entry, and
//! formatting given to the rest of a row or table never makes the plan larger.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, Cursor};

use calamine::{Ods, OdsError, Reader as _};
use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;

use super::super::grid::{Cell, Rgb, Unreadable};
use super::super::office::{attribute, local_name, number_attribute};
use super::cell_text::value_text;
use super::merges::{place_values_and_merges, Merge};
use super::sheets::{choose_sheet, chosen_name, refuse_empty};
use super::style::{OdsCellStyles, SpreadsheetKind};
use super::{Extent, SheetRead, SheetValues, COLUMN_LIMIT, ROW_LIMIT};

/// The most merged ranges read from an OpenDocument sheet, where one repeated spanned
/// cell can stand for very many.
const MERGE_LIMIT: usize = 200_000;

pub(super) fn read_ods_values(
    bytes: &[u8],
    requested: Option<&str>,
) -> Result<SheetValues, Unreadable> {
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
pub(super) struct OdsLayout {
    pub(super) found: bool,
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
    let count = number_attribute::<u64>(element, attribute_name)
        .unwrap_or(1)
        .max(1);
    count.min(u64::from(room)) as u32
}

pub(super) fn read_ods_layout(
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
    number_attribute::<u64>(element, name)
        .unwrap_or(1)
        .clamp(1, u64::from(ROW_LIMIT)) as u32
}

pub(super) fn build_ods_sheet(
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
