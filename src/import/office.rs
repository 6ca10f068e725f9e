//! What the readers of Office files (Word `.docx`, Excel `.xlsx`, OpenDocument
//! `.ods`) share: the package checked before any part is read (sizes, DOCTYPEs), one
//! zip part read within a size limit, an XML attribute by its local name, a small
//! part walked element by element with its ancestors, and the first colour scheme of
//! a theme part.
//!
//! It only reads. It never decides what a part, an attribute or a colour means (each
//! reader does that for its own format), never writes a message to the user beyond
//! the package's limits (each reader names the program to open the file in), and
//! never unpacks a part past the limit it is given, whatever the package declares.
//!
//! Why checking the package's directory bounds every read: the zip library stops any
//! part, read by us or by calamine, with an error once it unpacks past the size the
//! directory declares for it. So once every declared size is within [`PART_LIMIT`] and
//! their sum within [`PACKAGE_LIMIT`], no zip bomb can unpack more, whether its
//! sizes are honest (refused here, before a byte is unpacked) or lie (the read stops
//! at the lie and the part is reported damaged).

use std::io::{BufRead, BufReader, Read, Seek};
use std::str::FromStr;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zip::ZipArchive;

/// The most any one part of a package may unpack to. The largest plans' parts are a
/// few megabytes (a 10,000-action sheet is about 7 MB of XML); a part is read whole
/// or streamed, so this bounds the memory one part can take.
pub(super) const PART_LIMIT: u64 = 64 * 1024 * 1024;
/// The most all parts of a package together may unpack to. Pictures and other
/// parts that barely compress are bounded by the file's own size limit long before
/// this; only a package built to expand reaches it.
pub(super) const PACKAGE_LIMIT: u64 = 256 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

/// Why a package is refused from its directory and the start of its parts alone.
#[derive(Debug)]
pub(super) enum PackageRefusal {
    /// One part declares more than [`PART_LIMIT`].
    PartTooLarge { part: String, declared: u64 },
    /// All parts together declare more than [`PACKAGE_LIMIT`].
    TooLargeInAll { declared: u64 },
    /// An XML part declares a DOCTYPE, which Office programs never write: the way
    /// to "billion laughs" entity expansion. Our XML reader never expands entities,
    /// but a file that tries is refused rather than half read.
    Doctype { part: String },
    /// A part could not even be started (a damaged entry).
    Damaged { part: String, error: String },
}

impl PackageRefusal {
    /// The refusal in words: what, where, the limit; `noun` is "Word document",
    /// "workbook" or "spreadsheet", `todo` what to do instead.
    pub(super) fn message(&self, noun: &str, todo: &str) -> String {
        match self {
            PackageRefusal::PartTooLarge { part, declared } => format!(
                "the {noun}'s part {part} unpacks to {} MiB, more than the {} MiB any one part                  of a plan may have (the file may be damaged or built to exhaust memory); {todo}",
                declared / MIB,
                PART_LIMIT / MIB
            ),
            PackageRefusal::TooLargeInAll { declared } => format!(
                "the {noun}'s parts unpack to {} MiB in all, more than the {} MiB limit for a                  plan (the file may be damaged or built to exhaust memory); {todo}",
                declared / MIB,
                PACKAGE_LIMIT / MIB
            ),
            PackageRefusal::Doctype { part } => format!(
                "the {noun}'s part {part} declares a DOCTYPE (its own XML entities), which \
                 Office programs never write; the file may be built to exhaust memory, so it \
                 was not read; {todo}"
            ),
            PackageRefusal::Damaged { part, error } => {
                format!("the {noun} is damaged ({part}: {error}); {todo}")
            }
        }
    }
}

/// Checks a package before any part is read: every part's declared size, their
/// sum, and that no XML part declares a DOCTYPE (only the prolog of each XML part is
/// unpacked for that, up to its root element).
pub(super) fn check_package<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
) -> Result<(), PackageRefusal> {
    let mut total = 0u64;
    let mut xml_parts = Vec::new();
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_data(index) else {
            continue;
        };
        let name = entry
            .name()
            .map(|name| name.into_owned())
            .unwrap_or_default();
        let declared = entry.size();
        if declared > PART_LIMIT {
            return Err(PackageRefusal::PartTooLarge {
                part: name,
                declared,
            });
        }
        total = total.saturating_add(declared);
        let lower = name.to_lowercase();
        if lower.ends_with(".xml") || lower.ends_with(".rels") {
            xml_parts.push((index, name));
        }
    }
    if total > PACKAGE_LIMIT {
        return Err(PackageRefusal::TooLargeInAll { declared: total });
    }
    for (index, part) in xml_parts {
        let entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(error) => {
                return Err(PackageRefusal::Damaged {
                    part,
                    error: error.to_string(),
                })
            }
        };
        if declares_doctype(BufReader::new(entry)) {
            return Err(PackageRefusal::Doctype { part });
        }
    }
    Ok(())
}

/// Whether the XML's prolog (what comes before its root element) has a DOCTYPE.
/// Damage is not judged here: the reader of the part reports it.
fn declares_doctype(part: impl BufRead) -> bool {
    let mut reader = Reader::from_reader(part);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_event_into(&mut buffer) {
            Ok(Event::DocType(_)) => return true,
            Ok(Event::Start(_) | Event::Empty(_) | Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// Reads one zip part whole, or `None` when it unpacks to more than `limit` bytes.
/// `declared` is the size the package gives for the part; it may lie, so it only
/// sizes the first allocation, and the limit is enforced on what actually comes out
/// of the decompressor.
pub(super) fn read_within(
    part: impl Read,
    declared: u64,
    limit: u64,
) -> std::io::Result<Option<Vec<u8>>> {
    let declared = usize::try_from(declared.min(16 * 1024 * 1024)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(declared);
    part.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// The value of an attribute by its local name (`w:val` is asked for as "val",
/// `r:id` as "id"), with entities decoded.
pub(super) fn attribute(element: &BytesStart, local_name: &str) -> Option<String> {
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

/// An attribute read as a whole number; anything else counts as absent.
pub(super) fn number_attribute<T: FromStr>(element: &BytesStart, local_name: &str) -> Option<T> {
    attribute(element, local_name)?.trim().parse().ok()
}

/// The local name of an element as text (`x:row` gives "row").
pub(super) fn local_name(element: &BytesStart) -> String {
    element.local_name().as_ref().to_string()
}

/// Runs every element of a small, fully read part (a theme, styles, numbering,
/// relationships) through `visit` with the local names of its ancestors and whether
/// it has content, so that those parts need no state machine.
pub(super) fn walk_part(
    xml: &str,
    mut visit: impl FnMut(&[String], &BytesStart, bool),
) -> Result<(), quick_xml::Error> {
    let mut reader = Reader::from_str(xml);
    let mut ancestors: Vec<String> = Vec::new();
    loop {
        match reader.read_event()? {
            Event::Start(element) => {
                visit(&ancestors, &element, true);
                ancestors.push(local_name(&element));
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

/// One colour of a theme's colour scheme, as the theme part writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SchemeColour {
    /// `a:srgbClr`: its `val`, a hex colour.
    Rgb(Option<String>),
    /// `a:sysClr`: the colour it last had (`lastClr`) and the system colour's name
    /// (`val`, such as "windowText"), which Excel and Word treat differently.
    System {
        last: Option<String>,
        name: Option<String>,
    },
}

/// The colours of the first colour scheme of a theme part, in the order written, each
/// with its slot ("dk1", "lt1", "accent1" …). Only the first scheme counts: a theme
/// part may carry alternatives after it.
pub(super) fn first_colour_scheme(
    xml: &str,
) -> Result<Vec<(String, SchemeColour)>, quick_xml::Error> {
    let mut colours = Vec::new();
    let mut schemes_seen = 0;
    walk_part(xml, |ancestors, element, _| {
        let name = local_name(element);
        if name == "clrScheme" {
            schemes_seen += 1;
        }
        let [.., scheme, slot] = ancestors else {
            return;
        };
        if scheme != "clrScheme" || schemes_seen != 1 {
            return;
        }
        let colour = match name.as_str() {
            "srgbClr" => SchemeColour::Rgb(attribute(element, "val")),
            "sysClr" => SchemeColour::System {
                last: attribute(element, "lastClr"),
                name: attribute(element, "val"),
            },
            _ => return,
        };
        colours.push((slot.clone(), colour));
    })?;
    Ok(colours)
}
