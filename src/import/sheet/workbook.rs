//! Finding an Excel workbook's parts as Excel finds them: the workbook part through
//! the package relationships, and from it the styles, the theme and each sheet's
//! part, whatever names and folders the writer gave them.
//!
//! It only resolves names. It never reads a sheet, and a relationship that points
//! outside the package is never followed.

use super::super::grid::Unreadable;
use super::super::office::{attribute, local_name};
use super::package::Package;
use super::style::{walk_part, SpreadsheetKind};

/// The workbook part and the parts it relates to, found through the package's
/// relationships as Excel finds them instead of by the usual names: writers number
/// and place sheets as they like.
pub(super) struct ExcelWorkbook {
    part: String,
    directory: String,
    xml: String,
    relationships_part: String,
    relationships: Vec<Relationship>,
}

impl ExcelWorkbook {
    pub(super) fn locate(package: &mut Package) -> Result<ExcelWorkbook, Unreadable> {
        let mut part = "xl/workbook.xml".to_string();
        if let Some(xml) = package.read_text("_rels/.rels")? {
            if let Some(relationship) = read_relationships("_rels/.rels", &xml)?
                .into_iter()
                .find(|relationship| relationship.kind.ends_with("/officeDocument"))
            {
                part = resolve_target("", &relationship.target);
            }
        }
        let Some(xml) = package.read_text(&part)? else {
            return Err(Unreadable::new(format!(
                "the file is a zip package without {part}, so it is not an Excel workbook; open \
                 the plan in Excel, save it as \"Excel Workbook (.xlsx)\" and import again"
            )));
        };
        let (directory, file) = match part.rsplit_once('/') {
            Some((directory, file)) => (directory.to_string(), file.to_string()),
            None => (String::new(), part.clone()),
        };
        let relationships_part = match directory.is_empty() {
            true => format!("_rels/{file}.rels"),
            false => format!("{directory}/_rels/{file}.rels"),
        };
        let relationships = match package.read_text(&relationships_part)? {
            Some(xml) => read_relationships(&relationships_part, &xml)?,
            None => Vec::new(),
        };
        Ok(ExcelWorkbook {
            part,
            directory,
            xml,
            relationships_part,
            relationships,
        })
    }

    /// The part the first internal relationship that `wanted` accepts points to.
    fn related(&self, wanted: impl Fn(&Relationship) -> bool) -> Option<String> {
        self.relationships
            .iter()
            .find(|relationship| !relationship.external && wanted(relationship))
            .map(|relationship| resolve_target(&self.directory, &relationship.target))
    }

    pub(super) fn styles_part(&self) -> String {
        self.related(|relationship| relationship.kind.ends_with("/styles"))
            .unwrap_or_else(|| resolve_target(&self.directory, "styles.xml"))
    }

    /// The shared strings part as calamine finds it: beside the workbook part.
    pub(super) fn shared_strings_part(&self) -> String {
        resolve_target(&self.directory, "sharedStrings.xml")
    }

    pub(super) fn theme_part(&self) -> Option<String> {
        self.related(|relationship| relationship.kind.ends_with("/theme"))
    }

    pub(super) fn sheet_part(&self, sheet_name: &str) -> Result<String, Unreadable> {
        let kind = SpreadsheetKind::Excel;
        let mut relationship_id = None;
        walk_part(kind, &self.part, &self.xml, |ancestors, element| {
            if relationship_id.is_none()
                && local_name(element) == "sheet"
                && ancestors.last().map(String::as_str) == Some("sheets")
                && attribute(element, "name").as_deref() == Some(sheet_name)
            {
                relationship_id = attribute(element, "id");
            }
        })?;
        relationship_id
            .and_then(|id| self.related(|relationship| relationship.id == id))
            .ok_or_else(|| {
                kind.damaged(
                    &self.relationships_part,
                    format!("no part is named for sheet \"{sheet_name}\""),
                )
            })
    }
}

struct Relationship {
    id: String,
    kind: String,
    target: String,
    external: bool,
}

fn read_relationships(part: &str, xml: &str) -> Result<Vec<Relationship>, Unreadable> {
    let mut relationships = Vec::new();
    walk_part(SpreadsheetKind::Excel, part, xml, |_, element| {
        if local_name(element) == "Relationship" {
            relationships.push(Relationship {
                id: attribute(element, "Id").unwrap_or_default(),
                kind: attribute(element, "Type").unwrap_or_default(),
                target: attribute(element, "Target").unwrap_or_default(),
                external: attribute(element, "TargetMode").as_deref() == Some("External"),
            });
        }
    })?;
    Ok(relationships)
}

/// A relationship's target as a part name: relative to the source's folder unless
/// it starts with a slash.
pub(super) fn resolve_target(directory: &str, target: &str) -> String {
    let target = target.replace('\\', "/");
    let mut segments: Vec<&str> = match target.starts_with('/') {
        true => Vec::new(),
        false => directory.split('/').filter(|s| !s.is_empty()).collect(),
    };
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    segments.join("/")
}
