//! Word's automatic list numbering: the list definitions of `numbering.xml`, the
//! paragraph styles of `styles.xml` that carry numbering, and the counters kept as
//! the document is read in order, so that "1." or "2.3" is put back in front of the
//! text a person sees it in front of.
//!
//! It only numbers. Bullets, unnumbered levels and unknown lists give no number, and
//! a loop of styles based on each other is followed a few steps only.

use std::collections::HashMap;

use super::super::grid::Unreadable;
use super::document::Paragraph;
use super::{attribute, number_attribute, switched_on, walk_part};

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
pub(super) struct ListNumbering {
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
    pub(super) fn read_definitions(&mut self, xml: &str) -> Result<(), Unreadable> {
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
                    override_level = number_attribute::<usize>(element, "ilvl")
                        .unwrap_or(0)
                        .min(8)
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
                        false => number_attribute::<usize>(element, "ilvl")
                            .unwrap_or(0)
                            .min(8),
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
    pub(super) fn read_style_numbering(&mut self, xml: &str) -> Result<(), Unreadable> {
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
                ("ilvl", Some("numPr")) => entry.ilvl = number_attribute::<usize>(element, "val"),
                _ => {}
            }
        })
    }

    /// The list of a paragraph: its own `w:numPr`, or else its style's.
    pub(super) fn paragraph_list(&self, paragraph: &Paragraph) -> Option<(String, usize)> {
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
    pub(super) fn next_number(&mut self, num_id: &str, ilvl: usize) -> Option<String> {
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
pub(super) fn format_list_number(value: u32, format: &str) -> String {
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
