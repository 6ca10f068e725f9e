//! Reading a plan out of a grid of cells: where the header is, which rows are
//! priorities, their descriptions, actions, continuations and cross-references, and
//! what each action's cells say.
//!
//! Pure, and faithful above all: every cell with text ends up in the plan (as a
//! field, an extra field, a priority's title or description, the title block) or in
//! a warning that says what was not read and why. Every judgement (a status word
//! read as its nearest status, a colour, a joined row, a ref given to an action
//! without one) is listed as a warning, so the preview shows it before anything is
//! recorded. A row that cannot be read refuses the whole file.
//!
//! The parts: `header` (finding the header row; repeated and new headers), `reader`
//! (what is kept while reading, and which kind each row is), `priorities` (headings,
//! descriptions, which priority an action falls under), `actions` (action rows and
//! extra fields), `continuations` (rows joined to the action above),
//! `compound_cells` (leads holding dates, statuses holding progress) and `finish`
//! (keys, refs and milestones once every row is read).

mod actions;
mod compound_cells;
mod continuations;
mod finish;
mod header;
mod priorities;
mod reader;

use projections::planned::clean_text;
use projections::timescale::PlanYears;

use super::columns::{map_columns, ColumnContent, Field};
use super::grid::{Grid, RowAt};
use super::{ImportError, ImportOptions, ImportedPlan, MAX_CELL_BYTES};
use header::{column_name, distinct_texts, find_header, row_text};
use priorities::{is_description, priority_heading};
use reader::Reader;

/// Reads the plan in `grid`. `file` names the file in errors.
pub fn read_layout(
    file: &str,
    mut grid: Grid,
    options: &ImportOptions,
) -> Result<ImportedPlan, ImportError> {
    let at_error = |at: Option<RowAt>, column: Option<String>, message: String| ImportError {
        file: file.to_owned(),
        at,
        column,
        message,
    };
    // Refuse over-long cells where they are, then clean every cell once.
    let first_row = grid.rows.iter().find(|r| !r.is_blank());
    for row in &grid.rows {
        if let Some((index, cell)) = row
            .cells
            .iter()
            .enumerate()
            .find(|(_, c)| c.text.len() > MAX_CELL_BYTES)
        {
            let message = format!("this cell holds {} bytes, over the {} KiB limit for one cell; shorten it (longer material can be attached as evidence) and import again", cell.text.len(), MAX_CELL_BYTES / 1024);
            let header = first_row
                .and_then(|r| r.cells.get(index))
                .map_or("", |c| c.text.trim());
            let column = format!("{} ({header})", column_name(&grid, index));
            return Err(at_error(Some(row.at), Some(column), message));
        }
    }
    for row in &mut grid.rows {
        for cell in &mut row.cells {
            cell.text = clean_text(&cell.text);
        }
    }
    let Some(header_index) = find_header(&grid.rows) else {
        return Err(at_error(None, None, "the file is empty: it holds no rows of text; export the plan with its header row (ref, action, lead, …) and its actions, then import again".to_owned()));
    };
    let header_row = &grid.rows[header_index];
    let headers: Vec<String> = header_row.cells.iter().map(|c| c.text.clone()).collect();
    let mut title_block: Vec<String> = grid.rows[..header_index]
        .iter()
        .filter(|r| !r.is_blank())
        .map(row_text)
        .collect();
    // A numbered priority heading above the first header row ("1. The MSCB will
    // …", as a plan that repeats its header per section lays it out) starts the
    // first priority, with any Aim rows after it; the title is never one.
    let opening_priority = title_block
        .iter()
        .enumerate()
        .skip(1)
        .rev()
        .find(|(_, line)| priority_heading(line).is_some_and(|(key, _)| key.is_some()))
        .map(|(index, _)| index);
    let opening_rows = match opening_priority {
        Some(index) => title_block.split_off(index),
        None => Vec::new(),
    };
    let width = grid.rows[header_index..]
        .iter()
        .map(|r| r.cells.len())
        .max()
        .unwrap_or(0);
    let mut content = vec![ColumnContent::default(); width];
    for row in &grid.rows[header_index + 1..] {
        if distinct_texts(row) > 1 {
            for (index, cell) in row.cells.iter().enumerate() {
                if let Some(column) = content.get_mut(index) {
                    column.add(&cell.text);
                }
            }
        }
    }
    let columns = map_columns(&headers, &content, &options.maps, grid.lettered_columns)
        .map_err(|message| at_error(Some(header_row.at), None, message))?;
    let mut years = options.years;
    if years == PlanYears::default() {
        years = PlanYears::from_period(&title_block.join(" "));
    }
    if years == PlanYears::default() {
        years = options
            .around_year
            .map(PlanYears::around)
            .unwrap_or_default();
    }
    let mut reader = Reader::new(&grid, columns, content, options, years);
    for line in opening_rows {
        match priority_heading(&line) {
            Some((key, title)) if key.is_some() => reader.start_priority(key, title),
            _ if is_description(&line) => reader.describe(&line),
            _ => title_block.push(line),
        }
    }
    if reader.column(Field::Action).is_none() {
        let seen: Vec<String> = headers
            .iter()
            .filter(|h| !h.is_empty())
            .map(|h| format!("{h:?}"))
            .collect();
        let message = format!("no column holds the action text (headers seen: {}); head the column of actions \"action\" or \"Specific action\", or say which it is with --map \"HEADER=action\", and import again", seen.join(", "));
        return Err(at_error(Some(header_row.at), None, message));
    }
    if headers.len() < width
        && !grid.lettered_columns
        && grid.rows.iter().all(|r| r.at.table.is_none())
    {
        // In text, a value past the header's last column is almost always a comma
        // that should have been quoted: every later cell of that row is shifted.
        for row in &grid.rows[header_index + 1..] {
            if let Some(index) =
                (headers.len()..row.cells.len()).find(|&i| !row.cells[i].text.is_empty())
            {
                let message = format!("this row has a value beyond the header's last column ({}); remove the stray value (often an unquoted comma) or give the column a header, then import again", headers.len());
                return Err(at_error(
                    Some(row.at),
                    Some(format!("{} (no header)", index + 1)),
                    message,
                ));
            }
        }
    }
    for row in &grid.rows[header_index + 1..] {
        reader.read_row(row).map_err(|(column, message)| {
            let column = column.map(|i| {
                let header = reader.headers.get(i).map_or("no header", String::as_str);
                format!("{} ({header})", column_name(&grid, i))
            });
            at_error(Some(row.at), column, message)
        })?;
    }
    let plan = reader.finish(grid.description.clone(), grid.notes.clone(), title_block);
    if plan.actions.is_empty() {
        return Err(at_error(
            None,
            None,
            "the file has a header row but no actions; export the plan's rows too and import again"
                .to_owned(),
        ));
    }
    Ok(plan)
}

fn display_ref(reference: &str) -> String {
    if reference.is_empty() {
        "(no ref yet)".to_owned()
    } else {
        reference.to_owned()
    }
}

fn shorten(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or("");
    let mut short: String = first_line.chars().take(60).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
