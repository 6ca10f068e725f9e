//! Choosing which sheet of a workbook to read, and naming the sheets in messages:
//! the one asked for by name (any case, surrounding spaces ignored) or the first
//! visible sheet of cells, with hidden sheets and charts marked as such.
//!
//! It never reads a sheet's cells; a chart or an empty sheet is refused with the
//! names of the sheets the user might have meant.

use calamine::{Sheet, SheetType, SheetVisible};

use super::super::grid::Unreadable;
use super::package::kind_noun;
use super::style::SpreadsheetKind;

/// Which sheet to read: the one named (matched without regard to case or surrounding
/// spaces), or the first visible worksheet.
pub(super) fn choose_sheet(
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

pub(super) fn chosen_name(sheets: &[Sheet], chosen: usize) -> String {
    sheets
        .get(chosen)
        .map_or(String::new(), |sheet| sheet.name.clone())
}

/// The sheets' names for a message, with hidden sheets and charts marked as such.
pub(super) fn sheet_list(sheets: &[Sheet]) -> String {
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

/// Refuses a sheet with no text anywhere, naming the sheets that might be meant.
pub(super) fn refuse_empty(
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
