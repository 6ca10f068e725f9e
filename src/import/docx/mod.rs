//! Reading the tables of a Word `.docx` document into a [`Grid`]: one row per table
//! row, one cell per grid column, with each cell's text and the colour it shows.
//!
//! This reader only transcribes what Word would display. It never touches the ledger,
//! never drops a row (blank rows and merged cells stay, so table and row numbers match
//! what the user sees in Word) and never guesses what a cell means: deciding which
//! column is the action or which colour is "Red" belongs to `layout`. Everything it
//! cannot read is refused as a whole with a message that says what to do, and no input,
//! however damaged or hostile, makes it panic or unpack without limit.

use std::collections::{HashMap, VecDeque};
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zip::result::ZipError;
use zip::ZipArchive;

use super::grid::{Cell, Grid, Rgb, Row, RowAt, Unreadable};

/// The most any one part of the package may unpack to; more is refused as a zip bomb.
const PART_LIMIT: u64 = 256 * 1024 * 1024;
/// The most rows (table rows and paragraphs before tables) a document may yield.
const ROW_LIMIT: usize = 1_000_000;
/// The most cells one table row may have once merges are spread over grid columns.
const CELLS_PER_ROW_LIMIT: usize = 1_000;
/// The most cells all rows together may have: a short `w:gridSpan` can stand for a
/// thousand cells, so without this a small file could fill the memory.
const CELL_LIMIT: usize = 20_000_000;
/// The most text all cells together may hold: a merge down copies the text above
/// into every covered cell, so without this a small file could fill the memory.
const TEXT_LIMIT: usize = 256 * 1024 * 1024;
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
        Some(bytes) => read_theme(&xml_text("word/theme/theme1.xml", &bytes)?)?,
        None => Theme::default(),
    };
    let mut numbering = ListNumbering::default();
    if let Some(bytes) = read_part(&mut archive, "word/numbering.xml")? {
        numbering.read_definitions(&xml_text("word/numbering.xml", &bytes)?)?;
    }
    if let Some(bytes) = read_part(&mut archive, "word/styles.xml")? {
        numbering.read_style_numbering(&xml_text("word/styles.xml", &bytes)?)?;
    }
    let document = xml_text("word/document.xml", &document)?;
    drop(archive);
    DocumentReader::new(theme, numbering).read(&document)
}

fn damaged(part: &str, error: impl std::fmt::Display) -> Unreadable {
    Unreadable::new(format!(
        "the Word document is damaged ({part}: {error}); {RESAVE}"
    ))
}

fn open_package(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>, Unreadable> {
    // Old binary .doc files and password-protected .docx files are both OLE
    // compound files; saying which they are saves the user a guess.
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(Unreadable::new(
            "the file is an older Word .doc document or a password-protected .docx, which \
             cannot be read; open it in Word, remove any password, save it as \
             \"Word Document (.docx)\" and import again",
        ));
    }
    ZipArchive::new(Cursor::new(bytes)).map_err(|error| {
        // A zip that starts right but cannot be opened was usually cut short.
        if bytes.starts_with(b"PK\x03\x04") {
            return Unreadable::new(format!(
                "the Word document is damaged or incomplete ({error}); it may have been cut \
                 short while downloading or copying: copy or download it again, or {RESAVE}"
            ));
        }
        Unreadable::new(format!(
            "the file is not a Word .docx document (it is not a zip package: {error}); \
             open it in Word, save it as \"Word Document (.docx)\" and import again"
        ))
    })
}

/// Reads one part of the package, or `None` when the package has no such part.
fn read_part(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<Vec<u8>>, Unreadable> {
    read_part_within(archive, name, PART_LIMIT)
}

fn read_part_within(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, Unreadable> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(ZipError::FileNotFound) => return Ok(None),
        Err(error) => return Err(damaged(name, error)),
    };
    // The declared size may lie, so it only sizes the first allocation; the limit
    // itself is enforced on what actually comes out of the decompressor.
    let declared = usize::try_from(file.size().min(16 * 1024 * 1024)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(declared);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| damaged(name, error))?;
    if bytes.len() as u64 > limit {
        return Err(Unreadable::new(format!(
            "the Word document's {name} unpacks to more than {} MiB, far more than any \
             action plan, so it was not read (it may be damaged or built to exhaust memory); \
             copy the plan's tables into a new document and import that",
            limit / (1024 * 1024)
        )));
    }
    Ok(Some(bytes))
}

/// The error for a zip package without `word/document.xml`, naming what it is instead.
fn missing_document(archive: &mut ZipArchive<Cursor<&[u8]>>) -> Unreadable {
    let has = |archive: &mut ZipArchive<Cursor<&[u8]>>, name: &str| archive.by_name(name).is_ok();
    if has(archive, "xl/workbook.xml") {
        Unreadable::new(
            "the file is an Excel workbook, not a Word document; save it with the .xlsx \
             extension and import it as a spreadsheet",
        )
    } else if has(archive, "ppt/presentation.xml") {
        Unreadable::new(
            "the file is a PowerPoint presentation, not a Word document; copy the plan's \
             table into a Word document or spreadsheet and import that",
        )
    } else {
        Unreadable::new(
            "the file is a zip package without word/document.xml, so it is not a Word \
             .docx document; open the plan in Word, save it as \"Word Document (.docx)\" \
             and import again",
        )
    }
}

/// Decodes a part's XML: UTF-8 as Word writes it, or UTF-16 with a byte-order mark.
fn xml_text(part: &str, bytes: &[u8]) -> Result<String, Unreadable> {
    let utf16 = |big_endian: bool| {
        let units = bytes[2..].chunks_exact(2).map(|pair| match big_endian {
            true => u16::from_be_bytes([pair[0], pair[1]]),
            false => u16::from_le_bytes([pair[0], pair[1]]),
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|error| damaged(part, error))
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(false),
        [0xFE, 0xFF, ..] => utf16(true),
        _ => {
            let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
            String::from_utf8(bytes.to_vec()).map_err(|error| damaged(part, error))
        }
    }
}

/// The value of an attribute by its local name (`w:val` is asked for as "val").
fn attribute(element: &BytesStart, local_name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|attribute| attribute.key.local_name().as_ref() == local_name)
        .and_then(|attribute| {
            attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|value| value.into_owned())
        })
}

fn number_attribute(element: &BytesStart, local_name: &str) -> Option<usize> {
    attribute(element, local_name)?.trim().parse().ok()
}

/// Reads an OOXML on/off property: present means on unless its value says off.
fn switched_on(element: &BytesStart) -> bool {
    !matches!(
        attribute(element, "val").as_deref(),
        Some("0" | "false" | "off")
    )
}

/// Runs every element of a small part (theme, numbering, styles) through `visit`,
/// with the local names of its ancestors, so those parts need no state machine.
fn walk_part(
    part: &str,
    xml: &str,
    mut visit: impl FnMut(&[String], &BytesStart, bool),
) -> Result<(), Unreadable> {
    let mut reader = Reader::from_str(xml);
    let mut ancestors: Vec<String> = Vec::new();
    loop {
        match reader.read_event().map_err(|error| damaged(part, error))? {
            Event::Start(element) => {
                visit(&ancestors, &element, true);
                ancestors.push(element.local_name().as_ref().to_string());
            }
            Event::Empty(element) => visit(&ancestors, &element, false),
            Event::End(_) => {
                ancestors.pop();
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// The document theme's colour scheme, by the names Word uses in `w:themeFill`.
#[derive(Debug, Default)]
struct Theme {
    colours: HashMap<String, Rgb>,
}

fn read_theme(xml: &str) -> Result<Theme, Unreadable> {
    let mut theme = Theme::default();
    // Only the first colour scheme counts: later ones are alternatives Word offers.
    let mut schemes_seen = 0;
    walk_part("word/theme/theme1.xml", xml, |ancestors, element, _| {
        let name = element.local_name();
        if name.as_ref() == "clrScheme" {
            schemes_seen += 1;
        }
        let [.., scheme, slot] = ancestors else {
            return;
        };
        if scheme != "clrScheme" || schemes_seen != 1 {
            return;
        }
        let value = match name.as_ref() {
            "srgbClr" => attribute(element, "val"),
            "sysClr" => attribute(element, "lastClr"),
            _ => None,
        };
        if let Some(rgb) = value.as_deref().and_then(Rgb::from_hex) {
            theme.colours.entry(slot.clone()).or_insert(rgb);
        }
    })?;
    Ok(theme)
}

impl Theme {
    /// Resolves Word's theme colour name with its tint or shade (hex bytes), the way
    /// Word computes them.
    fn colour(&self, name: &str, tint: Option<&str>, shade: Option<&str>) -> Option<Rgb> {
        let slot = match name {
            "dark1" | "text1" => "dk1",
            "light1" | "background1" => "lt1",
            "dark2" | "text2" => "dk2",
            "light2" | "background2" => "lt2",
            "hyperlink" => "hlink",
            "followedHyperlink" => "folHlink",
            other => other,
        };
        let colour = *self.colours.get(slot)?;
        let byte = |hex: Option<&str>| hex.and_then(|hex| u8::from_str_radix(hex.trim(), 16).ok());
        Some(tint_and_shade(colour, byte(tint), byte(shade)))
    }

    /// The colour a `w:shd` shows: the pattern colour when the pattern is solid,
    /// otherwise the fill; a theme colour wins over the hex Word saved beside it.
    fn shading(&self, shd: &BytesStart) -> Option<Rgb> {
        let get = |name: &str| attribute(shd, name);
        match get("val").as_deref() {
            Some("nil") => return None,
            Some("solid") => {
                let themed = get("themeColor").and_then(|name| {
                    self.colour(
                        &name,
                        get("themeTint").as_deref(),
                        get("themeShade").as_deref(),
                    )
                });
                if let Some(colour) =
                    themed.or_else(|| get("color").as_deref().and_then(Rgb::from_hex))
                {
                    return Some(colour);
                }
            }
            _ => {}
        }
        let themed = get("themeFill").and_then(|name| {
            self.colour(
                &name,
                get("themeFillTint").as_deref(),
                get("themeFillShade").as_deref(),
            )
        });
        themed.or_else(|| get("fill").as_deref().and_then(Rgb::from_hex))
    }
}

/// Lightens (tint) or darkens (shade) a theme colour as Word does: in HSL, moving the
/// lightness towards white by `1 - tint/255` or scaling it by `shade/255`, then
/// truncating to whole bytes. This reproduces the hex Word saves beside a theme
/// colour (accent6 70AD47 at tint 99 is A8D08D), which mixing in RGB does not.
fn tint_and_shade(colour: Rgb, tint: Option<u8>, shade: Option<u8>) -> Rgb {
    if tint.is_none() && shade.is_none() {
        return colour;
    }
    let [r, g, b] = [colour.0, colour.1, colour.2].map(|c| f64::from(c) / 255.0);
    let (max, min) = (r.max(g).max(b), r.min(g).min(b));
    let mut lightness = (max + min) / 2.0;
    let delta = max - min;
    let (hue, saturation) = if delta == 0.0 {
        (0.0, 0.0)
    } else {
        let saturation = delta / (1.0 - (2.0 * lightness - 1.0).abs());
        let hue = match max {
            m if m == r => ((g - b) / delta).rem_euclid(6.0),
            m if m == g => (b - r) / delta + 2.0,
            _ => (r - g) / delta + 4.0,
        };
        (hue, saturation)
    };
    if let Some(tint) = tint {
        let kept = f64::from(tint) / 255.0;
        lightness = lightness * kept + (1.0 - kept);
    }
    if let Some(shade) = shade {
        lightness *= f64::from(shade) / 255.0;
    }
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let second = chroma * (1.0 - (hue.rem_euclid(2.0) - 1.0).abs());
    let (r, g, b) = match hue as u8 {
        0 => (chroma, second, 0.0),
        1 => (second, chroma, 0.0),
        2 => (0.0, chroma, second),
        3 => (0.0, second, chroma),
        4 => (second, 0.0, chroma),
        _ => (chroma, 0.0, second),
    };
    let offset = lightness - chroma / 2.0;
    // The small nudge keeps 191.0 from truncating to 190 through rounding error.
    let byte = |c: f64| ((c + offset) * 255.0 + 1e-6).floor().clamp(0.0, 255.0) as u8;
    Rgb(byte(r), byte(g), byte(b))
}

/// Word's text highlight colours, which some plans use for RAG instead of shading.
fn highlight_colour(name: &str) -> Option<Rgb> {
    let hex = match name {
        "yellow" => "FFFF00",
        "green" => "00FF00",
        "cyan" => "00FFFF",
        "magenta" => "FF00FF",
        "blue" => "0000FF",
        "red" => "FF0000",
        "darkBlue" => "000080",
        "darkCyan" => "008080",
        "darkGreen" => "008000",
        "darkMagenta" => "800080",
        "darkRed" => "800000",
        "darkYellow" => "808000",
        "darkGray" => "808080",
        "lightGray" => "C0C0C0",
        "black" => "000000",
        "white" => "FFFFFF",
        _ => return None,
    };
    Rgb::from_hex(hex)
}

/// One level of a list definition in `numbering.xml`.
#[derive(Debug, Clone, Default)]
struct ListLevel {
    start: u32,
    format: String,
    text: String,
    /// `w:lvlRestart`: restart only after this (1-based) level or a higher one is used;
    /// 0 never restarts. `None` restarts after any higher level, as by default.
    restart_after: Option<usize>,
    legal: bool,
}

/// One `w:num`: which list definition it uses and its overrides.
#[derive(Debug, Default)]
struct ListInstance {
    abstract_id: String,
    start_overrides: HashMap<usize, u32>,
    level_overrides: HashMap<usize, ListLevel>,
}

/// Word's automatic list numbering: the definitions, and the counters as the
/// document is read in order, so "1." and "2.3" can be put back in front of the text
/// a person sees them in front of.
#[derive(Debug, Default)]
struct ListNumbering {
    abstracts: HashMap<String, HashMap<usize, ListLevel>>,
    instances: HashMap<String, ListInstance>,
    /// Paragraph styles' numbering `(numId, ilvl)` and the style they are based on.
    styles: HashMap<String, StyleNumbering>,
    default_style: Option<String>,
    counters: HashMap<String, [Option<u32>; 9]>,
}

#[derive(Debug, Default)]
struct StyleNumbering {
    num_id: Option<String>,
    ilvl: Option<usize>,
    based_on: Option<String>,
}

fn parse_count(text: Option<String>) -> Option<u32> {
    text?.trim().parse().ok()
}

impl ListNumbering {
    fn read_definitions(&mut self, xml: &str) -> Result<(), Unreadable> {
        let mut abstract_id = String::new();
        let mut instance_id = String::new();
        let mut override_level = 0;
        // The level being defined, and whether it overrides a level of a `w:num`.
        let mut level: Option<(usize, bool)> = None;
        walk_part("word/numbering.xml", xml, |ancestors, element, _| {
            let val = || attribute(element, "val");
            let name = element.local_name();
            match name.as_ref() {
                "abstractNum" => {
                    abstract_id = attribute(element, "abstractNumId").unwrap_or_default()
                }
                "num" => {
                    instance_id = attribute(element, "numId").unwrap_or_default();
                    self.instances.entry(instance_id.clone()).or_default();
                }
                "abstractNumId" => {
                    let instance = self.instances.entry(instance_id.clone()).or_default();
                    instance.abstract_id = val().unwrap_or_default();
                }
                "lvlOverride" => {
                    override_level = number_attribute(element, "ilvl").unwrap_or(0).min(8)
                }
                "startOverride" => {
                    let instance = self.instances.entry(instance_id.clone()).or_default();
                    let start = parse_count(val()).unwrap_or(0);
                    instance.start_overrides.insert(override_level, start);
                }
                "lvl" => {
                    let in_override = ancestors.iter().any(|a| a == "lvlOverride");
                    let ilvl = match in_override {
                        true => override_level,
                        false => number_attribute(element, "ilvl").unwrap_or(0).min(8),
                    };
                    level = Some((ilvl, in_override));
                }
                _ => {}
            }
            let Some((ilvl, in_override)) = level else {
                return;
            };
            if ancestors.last().map(String::as_str) != Some("lvl") && name.as_ref() != "lvl" {
                return;
            }
            let levels = match in_override {
                true => {
                    &mut self
                        .instances
                        .entry(instance_id.clone())
                        .or_default()
                        .level_overrides
                }
                false => self.abstracts.entry(abstract_id.clone()).or_default(),
            };
            let current = levels.entry(ilvl).or_default();
            match name.as_ref() {
                "start" => current.start = parse_count(val()).unwrap_or(0),
                "numFmt" => current.format = val().unwrap_or_default(),
                "lvlText" => current.text = val().unwrap_or_default(),
                "lvlRestart" => current.restart_after = parse_count(val()).map(|n| n as usize),
                "isLgl" => current.legal = switched_on(element),
                _ => {}
            }
        })
    }

    /// Reads which paragraph styles carry list numbering (headings often do).
    fn read_style_numbering(&mut self, xml: &str) -> Result<(), Unreadable> {
        let mut style: Option<String> = None;
        walk_part("word/styles.xml", xml, |ancestors, element, _| {
            let name = element.local_name();
            if name.as_ref() == "style" {
                style = attribute(element, "styleId");
                if attribute(element, "type").as_deref() == Some("paragraph")
                    && attribute(element, "default").is_some_and(|v| v == "1" || v == "true")
                {
                    self.default_style = style.clone();
                }
                return;
            }
            let Some(id) = &style else { return };
            if !ancestors.iter().any(|a| a == "style") {
                return;
            }
            let entry = self.styles.entry(id.clone()).or_default();
            let parent = ancestors.last().map(String::as_str);
            match (name.as_ref(), parent) {
                ("basedOn", _) => entry.based_on = attribute(element, "val"),
                ("numId", Some("numPr")) => entry.num_id = attribute(element, "val"),
                ("ilvl", Some("numPr")) => entry.ilvl = number_attribute(element, "val"),
                _ => {}
            }
        })
    }

    /// The list of a paragraph: its own `w:numPr`, or else its style's.
    fn paragraph_list(&self, paragraph: &Paragraph) -> Option<(String, usize)> {
        let mut num_id = paragraph.num_id.clone();
        let mut ilvl = paragraph.ilvl;
        let mut style = paragraph
            .style
            .clone()
            .or_else(|| self.default_style.clone());
        // Styles are followed through `basedOn` a few steps only, so a loop of
        // styles based on each other cannot hang the reader.
        for _ in 0..10 {
            if num_id.is_some() && ilvl.is_some() {
                break;
            }
            let Some(numbering) = style.as_ref().and_then(|s| self.styles.get(s)) else {
                break;
            };
            num_id = num_id.or_else(|| numbering.num_id.clone());
            ilvl = ilvl.or(numbering.ilvl);
            style = numbering.based_on.clone();
        }
        let num_id = num_id?;
        (num_id.trim() != "0").then_some((num_id, ilvl.unwrap_or(0).min(8)))
    }

    /// Counts one numbered paragraph and returns the number Word shows before it,
    /// or `None` for bullets, unnumbered levels and unknown lists.
    fn next_number(&mut self, num_id: &str, ilvl: usize) -> Option<String> {
        let ilvl = ilvl.min(8);
        let instance = self.instances.get(num_id)?;
        let levels = self.abstracts.get(&instance.abstract_id);
        let level_at = |l: usize| -> ListLevel {
            let mut level = (instance.level_overrides.get(&l))
                .or_else(|| levels.and_then(|levels| levels.get(&l)))
                .cloned()
                .unwrap_or_default();
            if let Some(start) = instance.start_overrides.get(&l) {
                level.start = *start;
            }
            level
        };
        // Lists that share a definition continue one another's numbering unless one
        // restarts with a start override, as in Word.
        let restarts = !instance.start_overrides.is_empty() || !instance.level_overrides.is_empty();
        let key = match restarts {
            true => format!("num {num_id}"),
            false => format!("abstract {}", instance.abstract_id),
        };
        let counters = self.counters.entry(key).or_insert([None; 9]);
        let this = level_at(ilvl);
        counters[ilvl] = Some(counters[ilvl].map_or(this.start, |n| n.saturating_add(1)));
        for (deeper, counter) in counters.iter_mut().enumerate().skip(ilvl + 1) {
            let restarts = level_at(deeper)
                .restart_after
                .is_none_or(|after| ilvl < after);
            if restarts {
                *counter = None;
            }
        }
        if matches!(this.format.as_str(), "bullet" | "none") || this.text.is_empty() {
            return None;
        }
        let mut text = this.text.clone();
        for referenced in (0..9).rev() {
            let placeholder = format!("%{}", referenced + 1);
            if text.contains(&placeholder) {
                let level = level_at(referenced);
                let value = counters[referenced].unwrap_or(level.start);
                let format = if this.legal {
                    "decimal"
                } else {
                    level.format.as_str()
                };
                text = text.replace(&placeholder, &format_list_number(value, format));
            }
        }
        let text = text.trim().to_string();
        (!text.is_empty()).then_some(text)
    }
}

/// A list counter as Word writes it in the given `w:numFmt`.
fn format_list_number(value: u32, format: &str) -> String {
    let letters = |base: u8| {
        // Word's letters run a…z, then aa…zz, aaa…: the letter repeats.
        let index = value.saturating_sub(1);
        let letter = char::from(base + (index % 26) as u8);
        letter
            .to_string()
            .repeat((index / 26 + 1).min(100) as usize)
    };
    match format {
        "lowerLetter" if value > 0 => letters(b'a'),
        "upperLetter" if value > 0 => letters(b'A'),
        "lowerRoman" if (1..4000).contains(&value) => roman(value).to_lowercase(),
        "upperRoman" if (1..4000).contains(&value) => roman(value),
        "decimalZero" if value < 10 => format!("0{value}"),
        _ => value.to_string(),
    }
}

fn roman(mut value: u32) -> String {
    const NUMERALS: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut text = String::new();
    for (worth, numeral) in NUMERALS {
        while value >= worth {
            text.push_str(numeral);
            value -= worth;
        }
    }
    text
}

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
struct Paragraph {
    text: String,
    fill: Option<Rgb>,
    num_id: Option<String>,
    ilvl: Option<usize>,
    style: Option<String>,
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
enum RunColours {
    #[default]
    NoneSeen,
    Same(Option<Rgb>),
    Mixed,
}

#[derive(Debug, Default)]
struct CellBuild {
    paragraphs: Vec<String>,
    shading: Option<Rgb>,
    run_colours: RunColours,
    span: usize,
    merged_down: bool,
    merged_across: bool,
}

#[derive(Debug, Default)]
struct RowBuild {
    cells: Vec<Cell>,
    before: usize,
    before_added: bool,
    after: usize,
}

#[derive(Debug, Default)]
struct TableBuild {
    /// 1-based among top-level tables; 0 for a table nested in a cell.
    number: usize,
    rows: Vec<Vec<Cell>>,
    row: Option<RowBuild>,
    cell: Option<CellBuild>,
    fill: Option<Rgb>,
}

/// The streaming reader of `document.xml`.
#[derive(Debug, Default)]
struct DocumentReader {
    theme: Theme,
    numbering: ListNumbering,
    grid: Grid,
    stack: Vec<Tag>,
    skipping: Skipping,
    skip_depth: usize,
    tables: Vec<TableBuild>,
    tables_seen: usize,
    paragraph: Option<Paragraph>,
    run: RunFormat,
    /// Body paragraphs since the last table, the last 200 of them, and how many
    /// earlier ones were let go.
    pending: VecDeque<String>,
    pending_dropped: usize,
    cells: usize,
    text_bytes: usize,
    drawings_with_text: usize,
}

impl DocumentReader {
    fn new(theme: Theme, numbering: ListNumbering) -> DocumentReader {
        DocumentReader {
            theme,
            numbering,
            ..DocumentReader::default()
        }
    }

    fn read(mut self, xml: &str) -> Result<Grid, Unreadable> {
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
                self.start_table();
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
                    cell.span = number_attribute(element, "val").unwrap_or(1).max(1);
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
                let count = number_attribute(element, "val").unwrap_or(0);
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
                        _ => paragraph.ilvl = number_attribute(element, "val"),
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

    fn start_table(&mut self) {
        let mut table = TableBuild::default();
        if self.tables.is_empty() {
            self.tables_seen += 1;
            table.number = self.tables_seen;
            let at = RowAt {
                table: Some(table.number),
                row: 0,
            };
            if self.pending_dropped > 0 {
                self.grid.notes.push(format!(
                    "{} paragraphs before table {} were not read; only the last {PARAGRAPHS_BEFORE_TABLE} before a table are kept.",
                    self.pending_dropped, table.number
                ));
                self.pending_dropped = 0;
            }
            for text in self.pending.drain(..) {
                self.grid.rows.push(Row {
                    at,
                    cells: vec![Cell::new(text)],
                });
            }
        }
        self.tables.push(table);
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

    fn end_cell(&mut self) -> Result<(), Unreadable> {
        let Some(table) = self.tables.last_mut() else {
            return Ok(());
        };
        let (Some(build), Some(row)) = (table.cell.take(), table.row.as_mut()) else {
            return Ok(());
        };
        add_cells_before(row);
        let column = row.cells.len();
        let mut text = join_paragraphs(&build.paragraphs);
        let run_fill = match build.run_colours {
            RunColours::Same(colour) => colour,
            _ => None,
        };
        let mut fill = build.shading.or(run_fill).or(table.fill);
        if build.merged_down {
            // A cell merged down shows the text of the cell at the top of the merge;
            // the cell directly above already holds that text if it is merged too.
            let above = table.rows.last().and_then(|cells| cells.get(column));
            let above_text = above.map(|cell| cell.text.clone()).unwrap_or_default();
            text = match text.is_empty() {
                true => above_text,
                false => format!("{above_text}\n{text}"),
            };
            fill = fill.or(above.and_then(|cell| cell.fill));
        }
        if build.merged_across {
            if let Some(first) = row.cells.iter_mut().rev().find(|cell| !cell.covered) {
                first.span += 1;
            }
        }
        if column.saturating_add(build.span) > CELLS_PER_ROW_LIMIT {
            return Err(too_many_cells(table.number, table.rows.len() + 1));
        }
        self.text_bytes += text.len();
        let covered = build.merged_down || build.merged_across;
        row.cells.push(Cell {
            text,
            fill,
            span: build.span,
            covered,
        });
        for _ in 1..build.span {
            row.cells.push(Cell {
                text: String::new(),
                fill,
                span: 1,
                covered: true,
            });
        }
        self.check_totals()
    }

    fn end_row(&mut self) -> Result<(), Unreadable> {
        let Some(table) = self.tables.last_mut() else {
            return Ok(());
        };
        let Some(mut row) = table.row.take() else {
            return Ok(());
        };
        let before = if row.before_added { 0 } else { row.before };
        if before
            .saturating_add(row.cells.len())
            .saturating_add(row.after)
            > CELLS_PER_ROW_LIMIT
        {
            return Err(too_many_cells(table.number, table.rows.len() + 1));
        }
        add_cells_before(&mut row);
        row.cells.extend((0..row.after).map(|_| Cell::new("")));
        self.cells += row.cells.len();
        table.rows.push(row.cells);
        let rows = self.grid.rows.len() + table.rows.len();
        if table.number > 0 && rows > ROW_LIMIT {
            return Err(Unreadable::new(
                "the Word document's tables have more than 1,000,000 rows, far more than any \
                 action plan; split the plan into smaller documents and import each",
            ));
        }
        self.check_totals()
    }

    fn end_table(&mut self) -> Result<(), Unreadable> {
        let Some(table) = self.tables.pop() else {
            return Ok(());
        };
        match self.tables.last_mut() {
            None => {
                for (index, cells) in table.rows.into_iter().enumerate() {
                    let at = RowAt {
                        table: Some(table.number),
                        row: index + 1,
                    };
                    self.grid.rows.push(Row { at, cells });
                }
            }
            Some(outer) => {
                // A table nested in a cell is part of that cell's text, one line per
                // row, as a person reading the cell would take it in.
                let lines: Vec<String> = table
                    .rows
                    .iter()
                    .map(|cells| {
                        let texts: Vec<&str> = cells
                            .iter()
                            .filter(|c| !c.covered)
                            .map(|c| c.text.as_str())
                            .collect();
                        texts.join(" | ")
                    })
                    .filter(|line| !line.replace('|', "").trim().is_empty())
                    .collect();
                if let Some(cell) = outer.cell.as_mut() {
                    cell.paragraphs.push(lines.join("\n"));
                }
            }
        }
        Ok(())
    }

    fn check_totals(&self) -> Result<(), Unreadable> {
        if self.cells > CELL_LIMIT || self.text_bytes > TEXT_LIMIT {
            return Err(Unreadable::new(
                "the Word document's tables hold more than 20 million cells or 256 MiB of text \
                 once merged cells are spread out, far more than any action plan; copy the \
                 plan's tables into a new document and import that",
            ));
        }
        Ok(())
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

fn add_cells_before(row: &mut RowBuild) {
    if !row.before_added {
        row.before_added = true;
        let before = row.before.min(CELLS_PER_ROW_LIMIT + 1);
        row.cells.splice(0..0, (0..before).map(|_| Cell::new("")));
    }
}

fn too_many_cells(table: usize, row: usize) -> Unreadable {
    let place = match table {
        0 => "a table inside a cell".to_string(),
        table => format!("table {table} row {row}"),
    };
    Unreadable::new(format!(
        "{place} has more than {CELLS_PER_ROW_LIMIT} cells, which no action plan has; the \
         document may be damaged: {RESAVE}"
    ))
}

/// A cell's text: its non-empty paragraphs, one line each, without blank lines at
/// either end.
fn join_paragraphs(paragraphs: &[String]) -> String {
    let kept: Vec<&str> = paragraphs
        .iter()
        .map(String::as_str)
        .filter(|paragraph| !paragraph.trim().is_empty())
        .collect();
    trim_blank_lines(&kept.join("\n")).to_string()
}

/// Removes whole blank lines at the start and end, keeping spaces within lines.
fn trim_blank_lines(text: &str) -> &str {
    let Some(first) = text.find(|c: char| !c.is_whitespace()) else {
        return "";
    };
    let start = text[..first].rfind('\n').map_or(0, |newline| newline + 1);
    let last = text.rfind(|c: char| !c.is_whitespace()).unwrap_or(first);
    let last_end = last + text[last..].chars().next().map_or(0, char::len_utf8);
    let end = text[last_end..]
        .find('\n')
        .map_or(text.len(), |newline| last_end + newline);
    &text[start..end]
}

#[cfg(test)]
mod tests;
