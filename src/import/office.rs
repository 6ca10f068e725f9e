//! What the readers of Office files (Word `.docx`, Excel `.xlsx`, OpenDocument
//! `.ods`) share: one zip part read within a size limit, an XML attribute by its
//! local name, a small part walked element by element with its ancestors, and the
//! first colour scheme of a theme part.
//!
//! It only reads. It never decides what a part, an attribute or a colour means (each
//! reader does that for its own format), never writes a message to the user (each
//! reader names the program to open the file in), and never unpacks a part past the
//! limit it is given, whatever the package declares.

use std::io::Read;
use std::str::FromStr;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

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
