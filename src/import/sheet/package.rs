//! The zip package of a workbook or spreadsheet, and the guards around reading it:
//! parts found whatever case or slashes a writer used, each part read or streamed
//! within a size limit, old and password-protected compound files refused by name,
//! and calamine run so that a panic inside it becomes a refusal.
//!
//! It reads bytes and nothing else: it never interprets a part beyond its name, and
//! never unpacks a part past its limit, whatever the package declares.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use quick_xml::Reader as XmlReader;
use zip::ZipArchive;

use super::super::grid::Unreadable;
use super::super::office::{check_package, read_within, PART_LIMIT};
use super::style::{part_text, SpreadsheetKind};

/// The zip package, with its parts findable whatever case or slashes a writer used.
pub(super) struct Package<'a> {
    kind: SpreadsheetKind,
    archive: ZipArchive<Cursor<&'a [u8]>>,
    parts: HashMap<String, usize>,
}

fn normalised_part_name(name: &str) -> String {
    name.trim_start_matches(['/', '\\'])
        .replace('\\', "/")
        .to_lowercase()
}

impl<'a> Package<'a> {
    pub(super) fn open(bytes: &'a [u8], kind: SpreadsheetKind) -> Result<Package<'a>, Unreadable> {
        let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|error| {
            Unreadable::new(match kind {
                SpreadsheetKind::Excel => format!(
                    "the file is not an Excel workbook (it is not a zip package: {error}); open \
                     it in Excel, save it as \"Excel Workbook (.xlsx)\" and import again"
                ),
                SpreadsheetKind::OpenDocument => format!(
                    "the file is not an OpenDocument spreadsheet (it is not a zip package: \
                     {error}); open it in LibreOffice Calc, save it as \"ODF Spreadsheet \
                     (.ods)\" and import again"
                ),
            })
        })?;
        // Every part's declared size is checked before calamine opens the file: the
        // zip library never unpacks more than a part declares (see `office`).
        check_package(&mut archive).map_err(|refusal| {
            let noun = kind_noun(kind);
            Unreadable::new(refusal.message(
                noun,
                &format!("copy the plan into a new {noun} and import that"),
            ))
        })?;
        let mut parts = HashMap::new();
        for index in 0..archive.len() {
            let Ok(entry) = archive.by_index_data(index) else {
                continue;
            };
            let Ok(name) = entry.name() else {
                continue;
            };
            parts.entry(normalised_part_name(&name)).or_insert(index);
        }
        Ok(Package {
            kind,
            archive,
            parts,
        })
    }

    pub(super) fn index(&self, name: &str) -> Option<usize> {
        self.parts.get(&normalised_part_name(name)).copied()
    }

    /// Reads one part whole, or `None` when the package has no such part.
    pub(super) fn read(&mut self, name: &str) -> Result<Option<Vec<u8>>, Unreadable> {
        let Some(index) = self.index(name) else {
            return Ok(None);
        };
        let kind = self.kind;
        let file = self
            .archive
            .by_index(index)
            .map_err(|error| kind.damaged(name, error))?;
        let declared = file.size();
        match read_within(file, declared, PART_LIMIT).map_err(|error| kind.damaged(name, error))? {
            Some(bytes) => Ok(Some(bytes)),
            None => Err(too_large_part(kind, name)),
        }
    }

    pub(super) fn read_text(&mut self, name: &str) -> Result<Option<String>, Unreadable> {
        match self.read(name)? {
            Some(bytes) => part_text(self.kind, name, bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Streams one part through `read` without holding it in memory.
    pub(super) fn stream<T>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut XmlReader<&mut dyn BufRead>) -> Result<T, Unreadable>,
    ) -> Result<Option<T>, Unreadable> {
        let Some(index) = self.index(name) else {
            return Ok(None);
        };
        let kind = self.kind;
        let file = self
            .archive
            .by_index(index)
            .map_err(|error| kind.damaged(name, error))?;
        let mut buffered = BufReader::new(file.take(PART_LIMIT));
        let mut reader = XmlReader::from_reader(&mut buffered as &mut dyn BufRead);
        read(&mut reader).map(Some)
    }
}

fn too_large_part(kind: SpreadsheetKind, name: &str) -> Unreadable {
    let noun = kind_noun(kind);
    Unreadable::new(format!(
        "the {noun}'s part {name} unpacks to more than {} MiB, far more than any action plan, \
         so it was not read (it may be damaged or built to exhaust memory); copy the plan into \
         a new {noun} and import that",
        PART_LIMIT / (1024 * 1024)
    ))
}

pub(super) fn kind_noun(kind: SpreadsheetKind) -> &'static str {
    match kind {
        SpreadsheetKind::Excel => "workbook",
        SpreadsheetKind::OpenDocument => "spreadsheet",
    }
}

/// Old binary `.xls` workbooks and password-protected `.xlsx` files are both OLE
/// compound files; saying so saves the user a guess.
pub(super) fn refuse_compound_file(bytes: &[u8]) -> Result<(), Unreadable> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Err(Unreadable::new(
            "the file is an older Excel .xls workbook or a password-protected workbook, which \
             cannot be read; open it in Excel, remove any password, save it as \"Excel \
             Workbook (.xlsx)\" and import again",
        ));
    }
    Ok(())
}

/// Runs calamine, turning a panic inside it on a hostile file into a refusal: this
/// reader must never bring the program down, whatever a library does.
pub(super) fn guarded<T>(
    kind: SpreadsheetKind,
    work: impl FnOnce() -> Result<T, Unreadable>,
) -> Result<T, Unreadable> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
        Err(kind.damaged(
            "the spreadsheet library stopped on it",
            "the file does not follow the format",
        ))
    })
}
