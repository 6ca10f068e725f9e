//! The streaming walk of `word/document.xml`: which elements open and close, the
//! text of runs and paragraphs (tabs, breaks, entities, list numbers), the
//! formatting that matters (shading, highlight, hidden text, merges, numbering), and
//! the paragraphs before, between and after the top-level tables.
//!
//! It transcribes what Word would display and nothing else: deleted text, field
//! codes, earlier formatting and drawings are passed over (drawings with text are
//! counted in a note), and a document that ends before its body closes is refused.

use std::collections::VecDeque;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::super::grid::{Grid, Rgb, Unreadable};
use super::numbering::ListNumbering;
use super::shading::{highlight_colour, Theme};
use super::tables::{trim_blank_lines, CellBuild, RowBuild, TableBuild};
use super::{attribute, damaged, number_attribute, switched_on, PARAGRAPHS_BEFORE_TABLE};

/// How deep the elements of `document.xml` may nest: Word's own documents, tables in
/// tables included, stay within a few dozen levels.
const DEPTH_LIMIT: usize = 1000;

/// The elements of `document.xml` whose nesting matters to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Table,
    TableRow,
    TableCell,
    Paragraph,
    Run,
    Text,
    ParagraphProperties,
    RunProperties,
    CellProperties,
    RowProperties,
    TableProperties,
    NumberingProperties,
    Other,
}

/// Whether the reader is passing over an element's whole content, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Skipping {
    #[default]
    No,
    /// Deleted text, field codes, earlier formatting, duplicates: never shown.
    Hidden,
    /// A drawing or text box, whose text floats outside the table; it is counted.
    Drawing { has_text: bool },
}

/// A paragraph being read.
#[derive(Debug, Default)]
pub(super) struct Paragraph {
    text: String,
    fill: Option<Rgb>,
    pub(super) num_id: Option<String>,
    pub(super) ilvl: Option<usize>,
    pub(super) style: Option<String>,
}

/// The formatting of the run being read that matters to its text and colour.
#[derive(Debug, Default)]
struct RunFormat {
    highlight: Option<Rgb>,
    fill: Option<Rgb>,
    hidden: bool,
}

/// Whether every run of text in a cell shows the same colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum RunColours {
    #[default]
    NoneSeen,
    Same(Option<Rgb>),
    Mixed,
}

/// The streaming reader of `document.xml`.
#[derive(Debug, Default)]
pub(super) struct DocumentReader {
    theme: Theme,
    numbering: ListNumbering,
    pub(super) grid: Grid,
    stack: Vec<Tag>,
    skipping: Skipping,
    skip_depth: usize,
    pub(super) tables: Vec<TableBuild>,
    pub(super) tables_seen: usize,
    paragraph: Option<Paragraph>,
    run: RunFormat,
    /// Body paragraphs since the last table, the last 200 of them, and how many
    /// earlier ones were let go.
    pub(super) pending: VecDeque<String>,
    pub(super) pending_dropped: usize,
    pub(super) cells: usize,
    pub(super) text_bytes: usize,
    drawings_with_text: usize,
}

impl DocumentReader {
    pub(super) fn new(theme: Theme, numbering: ListNumbering) -> DocumentReader {
        DocumentReader {
            theme,
            numbering,
            ..DocumentReader::default()
        }
    }

    pub(super) fn read(mut self, xml: &str) -> Result<Grid, Unreadable> {
        let mut reader = Reader::from_str(xml);
        loop {
            let event = reader.read_event().map_err(|error| {
                damaged(
                    "word/document.xml",
                    format!("{error} at byte {}", reader.error_position()),
                )
            })?;
            match event {
                Event::Start(element) => self.start(&element, false)?,
                Event::Empty(element) => self.start(&element, true)?,
                Event::End(_) => self.end()?,
                Event::Text(text) => self.text(&text.xml10_content()),
                Event::CData(text) => self.text(&text.xml10_content()),
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => {
                            match quick_xml::escape::resolve_predefined_entity(&reference) {
                                Some(text) => text.to_string(),
                                None => format!("&{};", &*reference),
                            }
                        }
                        Err(error) => return Err(damaged("word/document.xml", error)),
                    };
                    self.text(&resolved);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !self.stack.is_empty() || self.skip_depth > 0 {
            return Err(damaged(
                "word/document.xml",
                "it ends before its body is closed",
            ));
        }
        self.finish()
    }

    fn start(&mut self, element: &BytesStart, empty: bool) -> Result<(), Unreadable> {
        let name = element.local_name();
        let name = name.as_ref();
        if self.skip_depth > 0 {
            self.skip_depth += usize::from(!empty);
            return Ok(());
        }
        let skip = match name {
            "del" | "moveFrom" | "delText" | "instrText" | "Fallback" | "sdtPr" | "sdtEndPr"
            | "sectPr" | "footnoteReference" | "endnoteReference" => Skipping::Hidden,
            "drawing" | "pict" | "object" | "txbxContent" => Skipping::Drawing { has_text: false },
            _ if name.ends_with("Change") => Skipping::Hidden,
            _ => Skipping::No,
        };
        if skip != Skipping::No {
            if !empty {
                self.skipping = skip;
                self.skip_depth = 1;
            }
            return Ok(());
        }
        if !empty && self.stack.len() >= DEPTH_LIMIT {
            return Err(damaged(
                "word/document.xml",
                format!(
                    "its elements are nested more than {DEPTH_LIMIT} deep, which Word never \
                     writes; the file may be built to exhaust memory"
                ),
            ));
        }
        let parent = self.stack.last().copied();
        let grandparent = self
            .stack
            .len()
            .checked_sub(2)
            .and_then(|i| self.stack.get(i))
            .copied();
        let in_run = parent == Some(Tag::Run) && !self.run.hidden;
        let tag = match name {
            "tbl" => {
                self.start_table()?;
                Tag::Table
            }
            "tr" => {
                if let Some(table) = self.tables.last_mut() {
                    table.row = Some(RowBuild::default());
                }
                Tag::TableRow
            }
            "tc" => {
                if let Some(table) = self.tables.last_mut().filter(|table| table.row.is_some()) {
                    table.cell = Some(CellBuild {
                        span: 1,
                        ..CellBuild::default()
                    });
                }
                Tag::TableCell
            }
            "p" => {
                self.paragraph = Some(Paragraph::default());
                Tag::Paragraph
            }
            "r" => {
                self.run = RunFormat::default();
                Tag::Run
            }
            "t" if parent == Some(Tag::Run) => Tag::Text,
            "tab" | "ptab" if in_run => {
                self.text_piece("\t");
                Tag::Other
            }
            "br" | "cr" if in_run => {
                self.text_piece("\n");
                Tag::Other
            }
            "noBreakHyphen" if in_run => {
                self.text_piece("-");
                Tag::Other
            }
            "pPr" => Tag::ParagraphProperties,
            "rPr" => Tag::RunProperties,
            "tcPr" => Tag::CellProperties,
            "trPr" => Tag::RowProperties,
            "tblPr" => Tag::TableProperties,
            "numPr" => Tag::NumberingProperties,
            _ => {
                self.property(name, element, parent, grandparent);
                Tag::Other
            }
        };
        if !empty {
            self.stack.push(tag);
        } else if tag != Tag::Other {
            // An empty container (`<w:tc/>`) is opened and closed at once.
            self.stack.push(tag);
            self.end()?;
        }
        Ok(())
    }

    /// Reads a formatting element: shading, highlight, merges, list numbering.
    fn property(
        &mut self,
        name: &str,
        element: &BytesStart,
        parent: Option<Tag>,
        grandparent: Option<Tag>,
    ) {
        let run_properties = parent == Some(Tag::RunProperties) && grandparent == Some(Tag::Run);
        let cell = self.tables.last_mut().and_then(|table| table.cell.as_mut());
        match (name, parent) {
            ("shd", Some(Tag::CellProperties)) => {
                if let Some(cell) = cell {
                    cell.shading = self.theme.shading(element);
                }
            }
            ("shd", Some(Tag::ParagraphProperties)) => {
                if let Some(paragraph) = self.paragraph.as_mut() {
                    paragraph.fill = self.theme.shading(element);
                }
            }
            ("shd", Some(Tag::TableProperties)) => {
                let fill = self.theme.shading(element);
                if let Some(table) = self.tables.last_mut() {
                    table.fill = fill;
                }
            }
            ("shd", _) if run_properties => self.run.fill = self.theme.shading(element),
            ("highlight", _) if run_properties => {
                self.run.highlight = attribute(element, "val")
                    .as_deref()
                    .and_then(highlight_colour);
            }
            ("vanish", _) if run_properties => self.run.hidden = switched_on(element),
            ("gridSpan", Some(Tag::CellProperties)) => {
                if let Some(cell) = cell {
                    cell.span = number_attribute::<usize>(element, "val")
                        .unwrap_or(1)
                        .max(1);
                }
            }
            ("vMerge" | "hMerge", Some(Tag::CellProperties)) => {
                if let Some(cell) = cell {
                    let continues = attribute(element, "val").is_none_or(|v| v != "restart");
                    match name {
                        "vMerge" => cell.merged_down = continues,
                        _ => cell.merged_across = continues,
                    }
                }
            }
            ("gridBefore" | "gridAfter", Some(Tag::RowProperties)) => {
                let count = number_attribute::<usize>(element, "val").unwrap_or(0);
                if let Some(row) = self.tables.last_mut().and_then(|table| table.row.as_mut()) {
                    match name {
                        "gridBefore" => row.before = count,
                        _ => row.after = count,
                    }
                }
            }
            ("numId" | "ilvl", Some(Tag::NumberingProperties))
                if grandparent == Some(Tag::ParagraphProperties) =>
            {
                if let Some(paragraph) = self.paragraph.as_mut() {
                    match name {
                        "numId" => paragraph.num_id = attribute(element, "val"),
                        _ => paragraph.ilvl = number_attribute::<usize>(element, "val"),
                    }
                }
            }
            ("pStyle", Some(Tag::ParagraphProperties)) => {
                if let Some(paragraph) = self.paragraph.as_mut() {
                    paragraph.style = attribute(element, "val");
                }
            }
            _ => {}
        }
    }

    fn text(&mut self, text: &str) {
        if self.skip_depth > 0 {
            if let Skipping::Drawing { has_text } = &mut self.skipping {
                *has_text |= !text.trim().is_empty();
            }
        } else if self.stack.last() == Some(&Tag::Text) && !self.run.hidden {
            self.text_piece(text);
        }
    }

    /// Adds text from a run to its paragraph, and notes the run's colour in its cell.
    fn text_piece(&mut self, piece: &str) {
        let Some(paragraph) = self.paragraph.as_mut() else {
            return;
        };
        paragraph.text.push_str(piece);
        let colour = self.run.highlight.or(self.run.fill).or(paragraph.fill);
        // Blank text shows nothing unless it is coloured, when it shows a block of
        // colour: some plans mark RAG with highlighted spaces.
        if piece.trim().is_empty() && colour.is_none() {
            return;
        }
        if let Some(cell) = self.tables.last_mut().and_then(|table| table.cell.as_mut()) {
            cell.run_colours = match cell.run_colours {
                RunColours::NoneSeen => RunColours::Same(colour),
                RunColours::Same(seen) if seen == colour => RunColours::Same(seen),
                _ => RunColours::Mixed,
            };
        }
    }

    fn end(&mut self) -> Result<(), Unreadable> {
        if self.skip_depth > 0 {
            self.skip_depth -= 1;
            if self.skip_depth == 0 {
                if let Skipping::Drawing { has_text: true, .. } = self.skipping {
                    self.drawings_with_text += 1;
                }
                self.skipping = Skipping::No;
            }
            return Ok(());
        }
        match self.stack.pop() {
            Some(Tag::Table) => self.end_table(),
            Some(Tag::TableRow) => self.end_row(),
            Some(Tag::TableCell) => self.end_cell(),
            Some(Tag::Paragraph) => {
                self.end_paragraph();
                Ok(())
            }
            Some(Tag::Run) => {
                self.run = RunFormat::default();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn end_paragraph(&mut self) {
        let Some(paragraph) = self.paragraph.take() else {
            return;
        };
        let mut text = paragraph.text.clone();
        if let Some((num_id, ilvl)) = self.numbering.paragraph_list(&paragraph) {
            // Empty list items are counted, as Word counts them, but stay empty.
            if let Some(number) = self.numbering.next_number(&num_id, ilvl) {
                if !text.trim().is_empty() {
                    text = format!("{number} {}", text.trim_start());
                }
            }
        }
        match self.tables.last_mut() {
            Some(table) => {
                if let Some(cell) = table.cell.as_mut() {
                    cell.paragraphs.push(text);
                }
            }
            None => {
                let text = trim_blank_lines(&text);
                if !text.is_empty() {
                    if self.pending.len() == PARAGRAPHS_BEFORE_TABLE {
                        self.pending.pop_front();
                        self.pending_dropped += 1;
                    }
                    self.pending.push_back(text.to_string());
                }
            }
        }
    }

    fn finish(mut self) -> Result<Grid, Unreadable> {
        if self.tables_seen == 0 {
            return Err(Unreadable::new(
                "the Word document has no tables; a plan is read from its tables (one row \
                 per action), so put the plan in a table (in Word: Insert > Table, or select \
                 the text and use Convert Text to Table) and import again",
            ));
        }
        let after = self.pending.len() + self.pending_dropped;
        match after {
            0 => {}
            1 => self
                .grid
                .notes
                .push("1 paragraph after the last table was not read.".to_string()),
            n => self.grid.notes.push(format!(
                "{n} paragraphs after the last table were not read."
            )),
        }
        match self.drawings_with_text {
            0 => {}
            1 => self.grid.notes.push(
                "1 text box or drawing holds text that was not read; if it matters, move its text into the table."
                    .to_string(),
            ),
            n => self.grid.notes.push(format!(
                "{n} text boxes or drawings hold text that was not read; if it matters, move their text into the table."
            )),
        }
        self.grid.description = match self.tables_seen {
            1 => "Word document, 1 table".to_string(),
            n => format!("Word document, {n} tables"),
        };
        self.grid.lettered_columns = false;
        Ok(self.grid)
    }
}
