//! Hostile Office files: zip bombs (one part, many parts, sizes that lie), XML
//! entity expansion, deep nesting, a million rows, 16,384 columns, a `<dimension>`
//! that lies, huge shared-string tables, damaged zips, encrypted and legacy files.
//! Each is built here (`build`), small on disk, and handed to the real binary under
//! a virtual-memory cap (`ulimit -v`, 1 GiB: a normal import passes it easily, and
//! resident memory is always below virtual). Every refusal must be exit 2 with a
//! message that says what, where and the limit, for `import` and `import --dry-run`,
//! with the ledger unchanged; the few files that are only big, not harmful, import.
//!
//! Time is guarded generously (30 s: a hang fails) but not asserted; the figures —
//! time and peak resident memory per file — are printed by the ignored test
//! `measure_each_hostile_office_file` and recorded in docs/RELIABILITY.md.

mod build;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use assure::web::accounts::Role;

use crate::support::server::Server;
use crate::support::{Ledger, Run};
use build::{compound_file, periodic, stored, zip, Entry};

/// The virtual-memory cap every import here runs under, in KiB.
const MEMORY_CAP_KIB: u64 = 1024 * 1024;
/// Longer than this is a hang, not a slow refusal.
const HANG_GUARD: Duration = Duration::from_secs(30);
const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

// ------------------------------------------------------------------ files

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;
const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#;
const HEADER: [&str; 5] = ["Ref", "Action", "Lead", "Due", "Status"];
const BILLION_LAUGHS: &str = r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>"#;
const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;

fn word_row(cells: &[&str]) -> String {
    let cells: String = cells
        .iter()
        .map(|text| format!("<w:tc><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"))
        .collect();
    format!("<w:tr>{cells}</w:tr>")
}

/// A Word plan's table: the header and two actions.
fn word_plan_rows() -> String {
    [
        word_row(&HEADER),
        word_row(&[
            "1.1",
            "Audit the referrals",
            "Police",
            "March 2025",
            "Green",
        ]),
        word_row(&["1.2", "Train the staff", "Health", "June 2025", "Amber"]),
    ]
    .concat()
}

fn document_start() -> String {
    format!("{XML_DECLARATION}<w:document {W}><w:body>")
}

const DOCUMENT_END: &str = "</w:body></w:document>";

fn word_document(body: &str) -> String {
    format!("{}{body}{DOCUMENT_END}", document_start())
}

fn docx(document: Entry, more: Vec<Entry>) -> Vec<u8> {
    let mut entries = vec![stored("[Content_Types].xml", CONTENT_TYPES), document];
    entries.extend(more);
    zip(&entries)
}

fn plain_docx() -> Vec<u8> {
    let table = format!("<w:tbl>{}</w:tbl>", word_plan_rows());
    docx(
        stored("word/document.xml", word_document(&table)),
        Vec::new(),
    )
}

fn sheet_cell(text: &str) -> String {
    format!(r#"<c t="inlineStr"><is><t>{text}</t></is></c>"#)
}

fn sheet_row(cells: &[&str]) -> String {
    let cells: String = cells.iter().map(|text| sheet_cell(text)).collect();
    format!("<row>{cells}</row>")
}

fn sheet_plan_rows() -> String {
    [
        sheet_row(&HEADER),
        sheet_row(&[
            "1.1",
            "Audit the referrals",
            "Police",
            "March 2025",
            "Green",
        ]),
        sheet_row(&["1.2", "Train the staff", "Health", "June 2025", "Amber"]),
    ]
    .concat()
}

fn worksheet_start(before: &str) -> String {
    format!(r#"{XML_DECLARATION}<worksheet xmlns="{MAIN}" xmlns:r="{RELS}">{before}<sheetData>"#)
}

const WORKSHEET_END: &str = "</sheetData></worksheet>";

/// An Excel workbook of one sheet, "Plan", whose part is `sheet`, and `more` parts.
fn xlsx(sheet: Entry, more: Vec<Entry>) -> Vec<u8> {
    let mut entries = vec![
        stored("[Content_Types].xml", CONTENT_TYPES),
        stored(
            "_rels/.rels",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        stored(
            "xl/workbook.xml",
            format!(
                r#"{XML_DECLARATION}<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets><sheet name="Plan" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        stored(
            "xl/_rels/workbook.xml.rels",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId3" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
            ),
        ),
        sheet,
    ];
    entries.extend(more);
    zip(&entries)
}

fn sheet_part(xml: String) -> Entry {
    stored("xl/worksheets/sheet1.xml", xml)
}

fn plain_worksheet() -> String {
    format!(
        "{}{}{WORKSHEET_END}",
        worksheet_start(""),
        sheet_plan_rows()
    )
}

fn shared_strings_start() -> String {
    format!(r#"{XML_DECLARATION}<sst xmlns="{MAIN}">"#)
}

const OFFICE: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0""#;

fn ods_content_start() -> String {
    format!(
        r#"{XML_DECLARATION}<office:document-content {OFFICE} office:version="1.3"><office:body><office:spreadsheet><table:table table:name="Plan">"#
    )
}

const ODS_CONTENT_END: &str =
    "</table:table></office:spreadsheet></office:body></office:document-content>";

fn ods_cell(text: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
    )
}

fn ods_row(cells: &[&str]) -> String {
    let cells: String = cells.iter().map(|text| ods_cell(text)).collect();
    format!("<table:table-row>{cells}</table:table-row>")
}

fn ods(content: Entry) -> Vec<u8> {
    zip(&[
        stored("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
        content,
    ])
}

// ------------------------------------------------------------------ the cases

/// One hostile file and what must come of it.
struct Case {
    /// What it is, for the figures.
    what: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
    /// `None`: it imports (it is big, not harmful). `Some`: refused, with each of
    /// these in the message.
    refused: Option<Vec<&'static str>>,
    /// How many actions it imports, when it does.
    actions: usize,
}

fn refused(
    what: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
    needles: &[&'static str],
) -> Case {
    Case {
        what,
        file,
        bytes,
        refused: Some(needles.to_vec()),
        actions: 0,
    }
}

fn docx_one_part_of_2_gib() -> Case {
    let document = periodic(
        "word/document.xml",
        &document_start(),
        "<w:p/>",
        2 * GIB / 6,
        DOCUMENT_END,
        false,
    );
    refused(
        "docx: word/document.xml deflates 2 GiB of <w:p/>",
        "bomb.docx",
        docx(document, Vec::new()),
        &["word/document.xml", "2048 MiB", "64 MiB"],
    )
}

fn docx_one_part_that_lies_about_its_size() -> Case {
    let mut document = periodic(
        "word/document.xml",
        &document_start(),
        "<w:p/>",
        2 * GIB / 6,
        DOCUMENT_END,
        false,
    );
    document.size = 1_000_000;
    refused(
        "docx: word/document.xml declares 1 MB, unpacks to 2 GiB",
        "liar.docx",
        docx(document, Vec::new()),
        &["word/document.xml", "damaged", "larger than its declared"],
    )
}

/// Parts that are each under the per-part limit, never read by the reader, and
/// 2.4 GiB together.
fn many_parts(prefix: &str) -> Vec<Entry> {
    (0..40)
        .map(|i| {
            periodic(
                &format!("{prefix}media/fill{i}.bin"),
                "",
                "\0",
                60 * MIB,
                "",
                false,
            )
        })
        .collect()
}

fn docx_many_parts() -> Case {
    let table = format!("<w:tbl>{}</w:tbl>", word_plan_rows());
    let bytes = docx(
        stored("word/document.xml", word_document(&table)),
        many_parts("word/"),
    );
    refused(
        "docx: 40 parts of 60 MiB each (2.3 GiB)",
        "many.docx",
        bytes,
        &["2400 MiB in all", "256 MiB"],
    )
}

fn docx_billion_laughs() -> Case {
    let table = format!(
        "<w:tbl>{}{}</w:tbl>",
        word_plan_rows(),
        word_row(&["1.3", "&lol9;", "x", "y", "z"])
    );
    let xml =
        format!("{XML_DECLARATION}{BILLION_LAUGHS}<w:document {W}><w:body>{table}{DOCUMENT_END}");
    refused(
        "docx: billion laughs in word/document.xml",
        "laughs.docx",
        docx(stored("word/document.xml", xml), Vec::new()),
        &["word/document.xml", "DOCTYPE"],
    )
}

fn docx_billion_laughs_in_content_types() -> Case {
    let table = format!("<w:tbl>{}</w:tbl>", word_plan_rows());
    let types = format!("{XML_DECLARATION}{BILLION_LAUGHS}<Types>&lol9;</Types>");
    let bytes = zip(&[
        stored("[Content_Types].xml", types),
        stored("word/document.xml", word_document(&table)),
    ]);
    // The reader never reads the content types, but every XML part's prolog is
    // checked: no Office program writes a DOCTYPE anywhere.
    refused(
        "docx: billion laughs in [Content_Types].xml",
        "types.docx",
        bytes,
        &["[Content_Types].xml", "DOCTYPE"],
    )
}

fn docx_nested_100000_elements() -> Case {
    let start = format!(
        "{}<w:tbl>{}<w:tr><w:tc>",
        document_start(),
        word_row(&HEADER)
    );
    let document = periodic("word/document.xml", &start, "<w:sdt>", 100_000, "", true);
    refused(
        "docx: 100,000 nested elements in a cell",
        "deep.docx",
        docx(document, Vec::new()),
        &["word/document.xml", "nested more than 1000 deep"],
    )
}

fn docx_nested_tables() -> Case {
    let start = format!(
        "{}<w:tbl>{}<w:tr><w:tc>",
        document_start(),
        word_row(&HEADER)
    );
    let document = periodic(
        "word/document.xml",
        &start,
        "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p>",
        100_000,
        "",
        true,
    );
    refused(
        "docx: 100,000 tables nested in a cell",
        "nested.docx",
        docx(document, Vec::new()),
        &["table 1 row 2", "nested more than 16 deep"],
    )
}

fn docx_million_rows() -> Case {
    let start = format!("{}<w:tbl>{}", document_start(), word_row(&HEADER));
    // The shortest row Word could write, so that the part stays under the part limit
    // and the row limit is what refuses it.
    let document = periodic(
        "word/document.xml",
        &start,
        "<w:tr><w:tc/></w:tr>",
        1_000_000,
        &format!("</w:tbl>{DOCUMENT_END}"),
        true,
    );
    refused(
        "docx: a table of 1,000,000 rows",
        "rows.docx",
        docx(document, Vec::new()),
        &["more than 50,000 rows"],
    )
}

fn docx_200_mb_string() -> Case {
    let start = format!(
        "{}<w:tbl>{}<w:tr><w:tc><w:p><w:r><w:t>",
        document_start(),
        word_row(&HEADER)
    );
    let document = periodic(
        "word/document.xml",
        &start,
        "a",
        200_000_000,
        &format!("</w:t></w:r></w:p></w:tc></w:tr></w:tbl>{DOCUMENT_END}"),
        false,
    );
    refused(
        "docx: one 200 MB text in a cell",
        "string.docx",
        docx(document, Vec::new()),
        &["word/document.xml", "64 MiB"],
    )
}

fn xlsx_one_part_of_2_gib() -> Case {
    let sheet = periodic(
        "xl/worksheets/sheet1.xml",
        &worksheet_start(""),
        "<row/>",
        2 * GIB / 6,
        WORKSHEET_END,
        false,
    );
    refused(
        "xlsx: the sheet part deflates 2 GiB of <row/>",
        "bomb.xlsx",
        xlsx(sheet, Vec::new()),
        &["xl/worksheets/sheet1.xml", "2048 MiB", "64 MiB"],
    )
}

fn xlsx_shared_strings_that_lie_about_their_size() -> Case {
    let mut strings = periodic(
        "xl/sharedStrings.xml",
        &shared_strings_start(),
        "<si><t>lol</t></si>",
        GIB / 18,
        "</sst>",
        false,
    );
    strings.size = 1_000_000;
    refused(
        "xlsx: sharedStrings.xml declares 1 MB, unpacks to 1 GiB",
        "liar.xlsx",
        xlsx(sheet_part(plain_worksheet()), vec![strings]),
        &["damaged", "larger than its declared"],
    )
}

fn xlsx_many_parts() -> Case {
    refused(
        "xlsx: 40 parts of 60 MiB each (2.3 GiB)",
        "many.xlsx",
        xlsx(sheet_part(plain_worksheet()), many_parts("xl/")),
        &["2400 MiB in all", "256 MiB"],
    )
}

fn xlsx_billion_laughs_in_the_sheet() -> Case {
    let xml = format!("{XML_DECLARATION}{BILLION_LAUGHS}<worksheet xmlns=\"{MAIN}\"><sheetData>{}{}{WORKSHEET_END}", sheet_plan_rows(), sheet_row(&["1.3", "&lol9;", "x", "y", "z"]));
    refused(
        "xlsx: billion laughs in the sheet part",
        "laughs.xlsx",
        xlsx(sheet_part(xml), Vec::new()),
        &["xl/worksheets/sheet1.xml", "DOCTYPE"],
    )
}

fn xlsx_billion_laughs_in_shared_strings() -> Case {
    let strings = format!(
        "{XML_DECLARATION}{BILLION_LAUGHS}<sst xmlns=\"{MAIN}\"><si><t>&lol9;</t></si></sst>"
    );
    refused(
        "xlsx: billion laughs in sharedStrings.xml",
        "strings.xlsx",
        xlsx(
            sheet_part(plain_worksheet()),
            vec![stored("xl/sharedStrings.xml", strings)],
        ),
        &["xl/sharedStrings.xml", "DOCTYPE"],
    )
}

fn xlsx_billion_laughs_in_the_workbook() -> Case {
    let mut bytes = xlsx(sheet_part(plain_worksheet()), Vec::new());
    let workbook = format!(
        r#"{XML_DECLARATION}{BILLION_LAUGHS}<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets><sheet name="&lol9;" sheetId="1" r:id="rId1"/></sheets></workbook>"#
    );
    bytes = replace_part(&bytes, "xl/workbook.xml", &workbook);
    refused(
        "xlsx: billion laughs in xl/workbook.xml",
        "book.xlsx",
        bytes,
        &["xl/workbook.xml", "DOCTYPE"],
    )
}

fn xlsx_million_rows() -> Case {
    let sheet = periodic(
        "xl/worksheets/sheet1.xml",
        &format!("{}{}", worksheet_start(""), sheet_row(&HEADER)),
        "<row><c><v>1</v></c></row>",
        1_000_000,
        WORKSHEET_END,
        true,
    );
    refused(
        "xlsx: a sheet of 1,000,000 rows",
        "rows.xlsx",
        xlsx(sheet, Vec::new()),
        &["sheet \"Plan\"", "50,000 rows"],
    )
}

fn xlsx_16384_columns() -> Case {
    let start = format!("{}{}<row>", worksheet_start(""), sheet_row(&HEADER));
    let sheet = periodic(
        "xl/worksheets/sheet1.xml",
        &start,
        &sheet_cell("x"),
        16_384,
        &format!("</row>{WORKSHEET_END}"),
        true,
    );
    refused(
        "xlsx: a row of 16,384 columns",
        "wide.xlsx",
        xlsx(sheet, Vec::new()),
        &["sheet \"Plan\"", "1,000 columns"],
    )
}

fn xlsx_dimension_that_lies() -> Case {
    let xml = format!(
        "{}{}{WORKSHEET_END}",
        worksheet_start(r#"<dimension ref="A1:XFD1048576"/>"#),
        sheet_plan_rows()
    );
    // Only the cells count: the plan imports.
    Case {
        what: "xlsx: <dimension> says A1:XFD1048576 over a 3-row plan",
        file: "dimension.xlsx",
        bytes: xlsx(sheet_part(xml), Vec::new()),
        refused: None,
        actions: 2,
    }
}

fn xlsx_millions_of_shared_strings() -> Case {
    let strings = periodic(
        "xl/sharedStrings.xml",
        &shared_strings_start(),
        "<si><t>x</t></si>",
        3_000_000,
        "</sst>",
        true,
    );
    refused(
        "xlsx: 3,000,000 shared strings",
        "strings.xlsx",
        xlsx(sheet_part(plain_worksheet()), vec![strings]),
        &["xl/sharedStrings.xml", "1,000,000"],
    )
}

fn xlsx_absurd_unique_count() -> Case {
    let strings = format!(
        r#"{XML_DECLARATION}<sst xmlns="{MAIN}" count="1000000000000" uniqueCount="1000000000000"><si><t>x</t></si></sst>"#
    );
    refused(
        "xlsx: uniqueCount=\"1000000000000\"",
        "count.xlsx",
        xlsx(
            sheet_part(plain_worksheet()),
            vec![stored("xl/sharedStrings.xml", strings)],
        ),
        &["xl/sharedStrings.xml", "1,000,000"],
    )
}

fn xlsx_one_60_mb_shared_string() -> Case {
    let strings = periodic(
        "xl/sharedStrings.xml",
        &format!("{}<si><t>", shared_strings_start()),
        "a",
        60_000_000,
        "</t></si></sst>",
        true,
    );
    refused(
        "xlsx: one 60 MB shared string",
        "long.xlsx",
        xlsx(sheet_part(plain_worksheet()), vec![strings]),
        &["xl/sharedStrings.xml", "32,767 characters"],
    )
}

fn xlsx_one_200_mb_shared_string() -> Case {
    let strings = periodic(
        "xl/sharedStrings.xml",
        &format!("{}<si><t>", shared_strings_start()),
        "a",
        200_000_000,
        "</t></si></sst>",
        false,
    );
    refused(
        "xlsx: one 200 MB shared string",
        "huge.xlsx",
        xlsx(sheet_part(plain_worksheet()), vec![strings]),
        &["xl/sharedStrings.xml", "64 MiB"],
    )
}

fn ods_one_part_of_2_gib() -> Case {
    let content = periodic(
        "content.xml",
        &ods_content_start(),
        "<table:table-row/>",
        2 * GIB / 18,
        ODS_CONTENT_END,
        false,
    );
    refused(
        "ods: content.xml deflates 2 GiB of empty rows",
        "bomb.ods",
        ods(content),
        &["content.xml", "2048 MiB", "64 MiB"],
    )
}

fn ods_16384_columns_in_many_rows() -> Case {
    let row = format!(
        r#"<table:table-row><table:table-cell table:number-columns-repeated="16383"/>{}</table:table-row>"#,
        ods_cell("x")
    );
    let content = periodic(
        "content.xml",
        &format!("{}{}", ods_content_start(), ods_row(&HEADER)),
        &row,
        20_000,
        ODS_CONTENT_END,
        true,
    );
    refused(
        "ods: 20,000 rows each with a value in column 16,384",
        "wide.ods",
        ods(content),
        &["sheet \"Plan\"", "1,000 columns"],
    )
}

fn ods_million_rows() -> Case {
    let rows = r#"<table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="float" office:value="1"/></table:table-row>"#;
    let content = stored(
        "content.xml",
        format!(
            "{}{}{rows}{ODS_CONTENT_END}",
            ods_content_start(),
            ods_row(&HEADER)
        ),
    );
    refused(
        "ods: a value repeated down 1,000,000 rows",
        "rows.ods",
        ods(content),
        &["sheet \"Plan\"", "50,000 rows"],
    )
}

fn truncated_docx() -> Case {
    let mut bytes = plain_docx();
    bytes.truncate(bytes.len() / 2);
    refused("docx cut in half", "cut.docx", bytes, &["damaged"])
}

fn docx_with_a_broken_central_directory() -> Case {
    let mut bytes = plain_docx();
    let at = find(&bytes, b"PK\x01\x02").unwrap();
    bytes[at + 4..at + 30].fill(0xFF);
    refused(
        "docx with a garbled central directory",
        "directory.docx",
        bytes,
        &["damaged"],
    )
}

fn xlsx_with_a_bad_checksum() -> Case {
    let mut bytes = xlsx(sheet_part(plain_worksheet()), Vec::new());
    let at = find(&bytes, b"Audit the referrals").unwrap();
    bytes[at] = b'O';
    refused(
        "xlsx whose sheet part fails its CRC-32",
        "checksum.xlsx",
        bytes,
        &["checksum"],
    )
}

fn xlsx_with_absurd_declared_sizes() -> Case {
    let mut sheet = sheet_part(plain_worksheet());
    sheet.size = u32::MAX;
    refused(
        "xlsx whose sheet part declares 4 GiB",
        "declared.xlsx",
        xlsx(sheet, Vec::new()),
        &["xl/worksheets/sheet1.xml", "4095 MiB", "64 MiB"],
    )
}

fn encrypted_workbook() -> Case {
    refused(
        "encrypted workbook (OLE2 EncryptedPackage)",
        "locked.xlsx",
        compound_file(&["EncryptionInfo", "EncryptedPackage"]),
        &["password-protected"],
    )
}

fn encrypted_document() -> Case {
    refused(
        "encrypted document (OLE2 EncryptedPackage)",
        "locked.docx",
        compound_file(&["EncryptionInfo", "EncryptedPackage"]),
        &["password-protected"],
    )
}

fn legacy_xls() -> Case {
    refused(
        "legacy .xls",
        "old.xls",
        compound_file(&["Workbook"]),
        &["Excel 97-2003"],
    )
}

fn legacy_doc() -> Case {
    refused(
        "legacy .doc",
        "old.doc",
        compound_file(&["WordDocument"]),
        &["Word 97-2003"],
    )
}

fn find(bytes: &[u8], needle: &[u8]) -> Option<usize> {
    bytes.windows(needle.len()).position(|w| w == needle)
}

/// The package with one stored part's bytes replaced (same length or not: rebuilt).
fn replace_part(package: &[u8], name: &str, xml: &str) -> Vec<u8> {
    use std::io::Read as _;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package)).unwrap();
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).unwrap();
        let part = file.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        entries.push(match part == name {
            true => stored(&part, xml),
            false => stored(&part, bytes),
        });
    }
    zip(&entries)
}

/// The controls: a plain plan of each kind imports under the same cap.
fn plain_docx_case() -> Case {
    Case {
        what: "control: a plain 2-action .docx",
        file: "plain.docx",
        bytes: plain_docx(),
        refused: None,
        actions: 2,
    }
}

fn plain_xlsx_case() -> Case {
    Case {
        what: "control: a plain 2-action .xlsx",
        file: "plain.xlsx",
        bytes: xlsx(sheet_part(plain_worksheet()), Vec::new()),
        refused: None,
        actions: 2,
    }
}

/// 60,000 small XML parts (the most a zip without zip64 holds is 65,535): each is
/// opened for its prolog, none is big; the plan imports.
fn xlsx_60000_small_parts() -> Case {
    let parts = (0..60_000)
        .map(|i| stored(&format!("xl/p/{i}.xml"), "<x/>"))
        .collect();
    Case {
        what: "xlsx: 60,000 small parts",
        file: "parts.xlsx",
        bytes: xlsx(sheet_part(plain_worksheet()), parts),
        refused: None,
        actions: 2,
    }
}

/// The biggest Word plan the limits let through: 49,999 actions under a header,
/// 50,000 rows (the limit). It imports; its figures are the bound for
/// any Word file that is accepted.
fn docx_just_under_the_row_limit() -> Case {
    let mut rows = word_row(&HEADER);
    for i in 0..49_999 {
        let reference = format!("{}.{}", i / 100 + 1, i % 100 + 1);
        rows.push_str(&word_row(&[
            &reference,
            "Audit the referrals",
            "Police",
            "March 2025",
            "Green",
        ]));
    }
    let document = word_document(&format!("<w:tbl>{rows}</w:tbl>"));
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer
        .start_file(
            "word/document.xml",
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
    std::io::Write::write_all(&mut writer, document.as_bytes()).unwrap();
    Case {
        what: "docx: 49,999 actions, at the 50,000-row limit",
        file: "biggest.docx",
        bytes: writer.finish().unwrap().into_inner(),
        refused: None,
        actions: 49_999,
    }
}

// ------------------------------------------------------------------ running them

/// One run of `assure import` under the memory cap.
struct Measured {
    run: Run,
    took: Duration,
    /// Peak resident memory in KiB, from `/usr/bin/time -f %M` when it is installed.
    peak_kib: Option<u64>,
}

fn import_capped(ledger: &Ledger, file: &str, extra: &[&str]) -> Measured {
    let binary = std::env::var("ASSURE_MEASURE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_assure").to_owned());
    let time_file = ledger.dir.path().join("peak-rss");
    let timer = Path::new("/usr/bin/time").is_file();
    let script = match timer {
        true => format!(
            "ulimit -v {MEMORY_CAP_KIB} && exec /usr/bin/time -o \"$PEAK_FILE\" -f %M \"$@\""
        ),
        false => format!("ulimit -v {MEMORY_CAP_KIB} && exec \"$@\""),
    };
    let _ = std::fs::remove_file(&time_file);
    let started = Instant::now();
    let output = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(binary)
        .arg("--data")
        .arg(&ledger.data)
        .arg("--actor=tester")
        .args([
            "import",
            file,
            "--plan",
            "hostile",
            "--effective",
            "2024-04-01",
        ])
        .args(extra)
        .env("PEAK_FILE", &time_file)
        .env_remove("ASSURE_DATA")
        .env_remove("ASSURE_ACTOR")
        .output()
        .unwrap();
    let took = started.elapsed();
    let peak_kib = std::fs::read_to_string(&time_file)
        .ok()
        .and_then(|text| text.lines().last()?.trim().parse().ok());
    Measured {
        run: Run::from_output(output),
        took,
        peak_kib,
    }
}

/// Imports the case with and without `--dry-run` into a ledger holding a plan,
/// checking the outcome each time; returns the measured runs.
fn check(case: &Case) -> Vec<Measured> {
    let ledger = Ledger::new();
    ledger.import_manchester();
    let file = ledger.file(case.file, &case.bytes);
    let mut measured = Vec::new();
    for extra in [&["--dry-run"][..], &[]] {
        let before = ledger.history();
        let outcome = import_capped(&ledger, &file, extra);
        assert!(
            outcome.took < HANG_GUARD,
            "{}: took {:?}",
            case.what,
            outcome.took
        );
        match &case.refused {
            Some(needles) => {
                let run = Run {
                    code: outcome.run.code,
                    stdout: outcome.run.stdout.clone(),
                    stderr: outcome.run.stderr.clone(),
                };
                let mut all = needles.clone();
                all.push("Nothing from the file was imported");
                all.push(case.file);
                run.fails_with(2, all.as_slice());
                assert_eq!(
                    ledger.history(),
                    before,
                    "{}: a refused import changed the ledger",
                    case.what
                );
            }
            None => {
                assert_eq!(
                    outcome.run.code, 0,
                    "{}: {}{}",
                    case.what, outcome.run.stdout, outcome.run.stderr
                );
                if extra.is_empty() {
                    let plan = ledger.run(&["plan", "hostile", "--json"]).ok().json();
                    assert_eq!(
                        plan["actions"].as_array().unwrap().len(),
                        case.actions,
                        "{}",
                        case.what
                    );
                } else {
                    assert_eq!(
                        ledger.history(),
                        before,
                        "{}: a dry run changed the ledger",
                        case.what
                    );
                }
            }
        }
        measured.push(outcome);
    }
    ledger.run(&["verify"]).ok();
    measured
}

/// Every case, once: a test each (`each::NAME`), and `ALL` for the figures.
macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        const ALL: &[fn() -> Case] = &[$($name),*];

        mod each {
            use super::check;
            $(
                #[test]
                fn $name() {
                    check(&super::$name());
                }
            )*
        }
    };
}

cases!(
    docx_one_part_of_2_gib,
    docx_one_part_that_lies_about_its_size,
    docx_many_parts,
    docx_billion_laughs,
    docx_billion_laughs_in_content_types,
    docx_nested_100000_elements,
    docx_nested_tables,
    docx_million_rows,
    docx_200_mb_string,
    xlsx_one_part_of_2_gib,
    xlsx_shared_strings_that_lie_about_their_size,
    xlsx_many_parts,
    xlsx_billion_laughs_in_the_sheet,
    xlsx_billion_laughs_in_shared_strings,
    xlsx_billion_laughs_in_the_workbook,
    xlsx_million_rows,
    xlsx_16384_columns,
    xlsx_dimension_that_lies,
    xlsx_millions_of_shared_strings,
    xlsx_absurd_unique_count,
    xlsx_one_60_mb_shared_string,
    xlsx_one_200_mb_shared_string,
    ods_one_part_of_2_gib,
    ods_16384_columns_in_many_rows,
    ods_million_rows,
    truncated_docx,
    docx_with_a_broken_central_directory,
    xlsx_with_a_bad_checksum,
    xlsx_with_absurd_declared_sizes,
    encrypted_workbook,
    encrypted_document,
    legacy_xls,
    legacy_doc,
    plain_docx_case,
    plain_xlsx_case,
    xlsx_60000_small_parts,
    docx_just_under_the_row_limit,
);

#[test]
fn every_hostile_file_stays_small_on_disk() {
    for case in ALL.iter() {
        let case = case();
        assert!(
            case.bytes.len() < 8 * MIB as usize,
            "{}: {} bytes",
            case.what,
            case.bytes.len()
        );
    }
}

#[test]
fn a_plan_file_over_the_size_limit_is_refused_before_it_is_read() {
    let ledger = Ledger::new();
    let path = ledger.dir.path().join("big.csv");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(32 * MIB + 1).unwrap(); // sparse: no disk spent
    let outcome = import_capped(&ledger, path.to_str().unwrap(), &[]);
    Run {
        code: outcome.run.code,
        stdout: outcome.run.stdout,
        stderr: outcome.run.stderr,
    }
    .fails_with(
        2,
        &["big.csv", "32 MiB", "Nothing from the file was imported"],
    );
}

#[test]
fn the_web_import_refuses_the_same_files_and_records_nothing() {
    let server = Server::start();
    let auth = server.bearer(Role::Manager);
    for case in [
        xlsx_one_part_of_2_gib(),
        docx_billion_laughs(),
        xlsx_millions_of_shared_strings(),
        ods_16384_columns_in_many_rows(),
    ] {
        let size = server.state().shared.read().size();
        let reply = server.send(
            "POST",
            &format!(
                "/api/v1/plans/hostile/import?title=Hostile&file_name={}",
                case.file
            ),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/octet-stream"),
            ],
            &case.bytes,
        );
        assert_eq!(reply.status, 400, "{}: {}", case.what, reply.body);
        let message = reply.json()["error"].as_str().unwrap().to_owned();
        for needle in case.refused.as_ref().unwrap() {
            assert!(message.contains(needle), "{}: {message}", case.what);
        }
        assert_eq!(server.state().shared.read().size(), size, "{}", case.what);
    }
}

/// Prints each file's size, time and peak resident memory (import and dry run):
/// `cargo test --test it hostile_office::measure -- --ignored --nocapture`
/// (`ASSURE_MEASURE_BIN=target/release/assure` to measure a release build).
#[test]
#[ignore]
fn measure_each_hostile_office_file() {
    println!("| file | on disk | outcome | dry run: time, peak RSS | import: time, peak RSS |");
    println!("|---|---|---|---|---|");
    for case in ALL.iter() {
        let case = case();
        let measured = check(&case);
        let figure = |m: &Measured| {
            let peak = m.peak_kib.map_or("—".to_owned(), |kib| {
                format!("{:.1} MiB", kib as f64 / 1024.0)
            });
            format!("{:.2} s, {peak}", m.took.as_secs_f64())
        };
        println!(
            "| {} | {:.1} KB | {} | {} | {} |",
            case.what,
            case.bytes.len() as f64 / 1000.0,
            if case.refused.is_some() {
                "refused, exit 2"
            } else {
                "imports"
            },
            figure(&measured[0]),
            figure(&measured[1]),
        );
    }
}
