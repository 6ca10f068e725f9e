//! Reading the tables of a Word `.docx` document into a [`Grid`]: one row per table
//! row, one cell per grid column, with each cell's text and the colour it shows.
//!
//! This reader only transcribes what Word would display. It never touches the ledger,
//! never drops a row (blank rows and merged cells stay, so table and row numbers match
//! what the user sees in Word) and never guesses what a cell means: deciding which
//! column is the action or which colour is "Red" belongs to `layout`. Everything it
//! cannot read is refused as a whole with a message that says what to do, and no input,
//! however damaged or hostile, makes it panic or unpack without limit.
//!
//! The parts: `package` (the zip, its size limits, what a package that is not a Word
//! document is instead, the part's text encoding), `document` (the walk of
//! `document.xml`: runs, paragraphs and the formatting that matters), `tables` (rows,
//! cells and merges), `numbering` (list numbers put back before their text) and
//! `shading` (theme colours, tint and shade, highlights). The small XML helpers they
//! share beyond those in `office` are here.

mod document;
mod numbering;
mod package;
mod shading;
mod tables;

use quick_xml::events::BytesStart;

use super::grid::{Grid, Unreadable};
use super::office::{self, attribute, number_attribute};
use document::DocumentReader;
use numbering::ListNumbering;
use package::{missing_document, open_package, read_part, xml_text};
use shading::{read_theme, Theme};

/// How many paragraphs before one table are kept (the last ones, nearest the table).
const PARAGRAPHS_BEFORE_TABLE: usize = 200;
/// What to tell a user whose document cannot be parsed.
const RESAVE: &str = "open it in Word, save it again as .docx and import again";

/// Reads every top-level table of a `.docx` document, in body order, with the
/// paragraphs between them; see the module documentation.
pub fn read_docx(bytes: &[u8]) -> Result<Grid, Unreadable> {
    let mut archive = open_package(bytes)?;
    let Some(document) = read_part(&mut archive, "word/document.xml")? else {
        return Err(missing_document(&mut archive));
    };
    let theme = match read_part(&mut archive, "word/theme/theme1.xml")? {
        Some(bytes) => read_theme(&xml_text("word/theme/theme1.xml", bytes)?)?,
        None => Theme::default(),
    };
    let mut numbering = ListNumbering::default();
    if let Some(bytes) = read_part(&mut archive, "word/numbering.xml")? {
        numbering.read_definitions(&xml_text("word/numbering.xml", bytes)?)?;
    }
    if let Some(bytes) = read_part(&mut archive, "word/styles.xml")? {
        numbering.read_style_numbering(&xml_text("word/styles.xml", bytes)?)?;
    }
    let document = xml_text("word/document.xml", document)?;
    drop(archive);
    DocumentReader::new(theme, numbering).read(&document)
}

fn damaged(part: &str, error: impl std::fmt::Display) -> Unreadable {
    Unreadable::new(format!(
        "the Word document is damaged ({part}: {error}); {RESAVE}"
    ))
}

/// Reads an OOXML on/off property: present means on unless its value says off.
fn switched_on(element: &BytesStart) -> bool {
    !matches!(
        attribute(element, "val").as_deref(),
        Some("0" | "false" | "off")
    )
}

/// Walks a small part (theme, numbering, styles; see [`office::walk_part`]),
/// refusing it as damaged if it is not well-formed XML.
fn walk_part(
    part: &str,
    xml: &str,
    visit: impl FnMut(&[String], &BytesStart, bool),
) -> Result<(), Unreadable> {
    office::walk_part(xml, visit).map_err(|error| damaged(part, error))
}

#[cfg(test)]
mod tests;
