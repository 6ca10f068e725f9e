//! The guard against OpenDocument repeat counts: a few bytes of `content.xml` can
//! ask for millions of cells with a value, which calamine would write out one by one.
//! This streams the part first and refuses such a file before calamine sees it.
//!
//! It only counts. It never builds cells, and never counts the empty repeated cells
//! every saved sheet has by the million.

use std::io::BufRead;

use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;

use super::super::grid::Unreadable;
use super::super::office::{attribute, number_attribute};
use super::style::SpreadsheetKind;

/// How many cells with a value an OpenDocument file may make by repeating them
/// (`number-columns-repeated` × `number-rows-repeated`): far beyond any plan, and
/// small enough that calamine, which writes every repeated value out, stays fast.
const MAX_REPEATED_VALUES: u64 = 2_000_000;

/// Refuses a spreadsheet whose repeat counts would make millions of cells with a
/// value, before calamine expands them (a hostile or damaged file could otherwise
/// take minutes and gigabytes). Empty repeated cells, which every saved sheet has
/// by the million, cost nothing and are not counted.
pub(super) fn check_ods_repeats(
    reader: &mut XmlReader<&mut dyn BufRead>,
) -> Result<(), Unreadable> {
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
                rows_repeated =
                    number_attribute::<u64>(element, "number-rows-repeated").unwrap_or(1);
            }
            "table-cell" | "covered-table-cell" => {
                let valued = has_children || attribute(element, "value-type").is_some();
                if valued {
                    let columns =
                        number_attribute::<u64>(element, "number-columns-repeated").unwrap_or(1);
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
