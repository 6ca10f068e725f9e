//! Tests of the sheet reader.

#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};

use proptest::prelude::*;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::super::grid::{Rgb, Row, RowAt};
use super::cell_text::{iso_date_text, iso_duration_text, number_text, with_plain_line_breaks};
use super::finish::hidden_note;
use super::workbook::resolve_target;
use super::*;

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELATIONSHIPS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// A zip package of the given parts, in order, the first stored uncompressed (as
/// OpenDocument requires of `mimetype`).
fn package(parts: &[(&str, String)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (index, (name, text)) in parts.iter().enumerate() {
        let method = match index {
            0 => CompressionMethod::Stored,
            _ => CompressionMethod::Deflated,
        };
        let options = SimpleFileOptions::default().compression_method(method);
        zip.start_file(*name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The Office 2013–2022 colour scheme, as Excel writes it.
fn theme() -> String {
    let slots = [
        ("dk1", r#"<a:sysClr val="windowText" lastClr="000000"/>"#),
        ("lt1", r#"<a:sysClr val="window" lastClr="FFFFFF"/>"#),
        ("dk2", r#"<a:srgbClr val="44546A"/>"#),
        ("lt2", r#"<a:srgbClr val="E7E6E6"/>"#),
        ("accent1", r#"<a:srgbClr val="4472C4"/>"#),
        ("accent2", r#"<a:srgbClr val="ED7D31"/>"#),
        ("accent3", r#"<a:srgbClr val="A5A5A5"/>"#),
        ("accent4", r#"<a:srgbClr val="FFC000"/>"#),
        ("accent5", r#"<a:srgbClr val="5B9BD5"/>"#),
        ("accent6", r#"<a:srgbClr val="70AD47"/>"#),
        ("hlink", r#"<a:srgbClr val="0563C1"/>"#),
        ("folHlink", r#"<a:srgbClr val="954F72"/>"#),
    ];
    let scheme: String = slots
        .iter()
        .map(|(slot, colour)| format!("<a:{slot}>{colour}</a:{slot}>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme"><a:themeElements><a:clrScheme name="Office">{scheme}</a:clrScheme></a:themeElements></a:theme>"#
    )
}

/// Fills by cell format index: format 4 + i uses fill 2 + i below.
const FILLS: [&str; 12] = [
    r#"<patternFill patternType="solid"><fgColor rgb="FFFFC000"/><bgColor indexed="64"/></patternFill>"#,
    r#"<patternFill patternType="solid"><fgColor theme="9" tint="0.59999389629810485"/><bgColor indexed="64"/></patternFill>"#,
    r#"<patternFill patternType="solid"><fgColor theme="4"/></patternFill>"#,
    r#"<patternFill patternType="solid"><fgColor theme="9" tint="-0.249977111117893"/></patternFill>"#,
    r#"<patternFill patternType="solid"><fgColor indexed="10"/></patternFill>"#,
    r#"<patternFill patternType="solid"><fgColor indexed="11"/></patternFill>"#,
    r#"<patternFill patternType="solid"><fgColor indexed="13"/></patternFill>"#,
    r#"<patternFill patternType="solid"><fgColor indexed="22"/></patternFill>"#,
    r#"<patternFill patternType="solid"><fgColor indexed="64"/></patternFill>"#,
    r#"<gradientFill degree="90"><stop position="0"><color rgb="FF00B050"/></stop><stop position="1"><color theme="0"/></stop></gradientFill>"#,
    r#"<patternFill patternType="solid"><bgColor rgb="FF92D050"/></patternFill>"#,
    r#"<patternFill patternType="none"><fgColor rgb="FFFF0000"/></patternFill>"#,
];

/// Formats 0–3 are plain, date, date and time, and duration; 4–15 use `FILLS`.
fn styles() -> String {
    let fills: String = FILLS
        .iter()
        .map(|fill| format!("<fill>{fill}</fill>"))
        .collect();
    let fill_formats: String = (0..FILLS.len())
        .map(|index| {
            format!(
                r#"<xf numFmtId="0" fontId="0" fillId="{}" borderId="0" applyFill="1"/>"#,
                index + 2
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="[h]:mm:ss"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="{}"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>{fills}</fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="{}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>{fill_formats}</cellXfs><dxfs count="1"><dxf><fill><patternFill><bgColor rgb="FFFF0000"/></patternFill></fill></dxf></dxfs></styleSheet>"#,
        FILLS.len() + 2,
        FILLS.len() + 4
    )
}

/// A worksheet part with the given rows and whatever comes before and after them.
fn worksheet(before: &str, rows: &str, after: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}">{before}<sheetData>{rows}</sheetData>{after}</worksheet>"#
    )
}

/// An Excel workbook of (name, state, worksheet XML) sheets, with shared strings.
/// The sheet parts are deliberately not named sheet1.xml, sheet2.xml … in order.
fn xlsx_with(sheets: &[(&str, &str, String)], shared_strings: &[&str]) -> Vec<u8> {
    xlsx_styled(sheets, shared_strings, &styles(), &theme())
}

/// As [`xlsx_with`], with the given styles and theme parts.
fn xlsx_styled(
    sheets: &[(&str, &str, String)],
    shared_strings: &[&str],
    styles: &str,
    theme: &str,
) -> Vec<u8> {
    let count = sheets.len();
    let mut sheet_entries = String::new();
    let mut relationships = String::new();
    let mut parts: Vec<(String, String)> = Vec::new();
    for (index, (name, state, xml)) in sheets.iter().enumerate() {
        let id = format!("rId{}", 10 + index);
        let file = format!("part{}.xml", count - index);
        sheet_entries.push_str(&format!(
            r#"<sheet name="{name}" sheetId="{}" state="{state}" r:id="{id}"/>"#,
            index + 1
        ));
        relationships.push_str(&format!(
            r#"<Relationship Id="{id}" Type="{RELATIONSHIPS}/worksheet" Target="worksheets/{file}"/>"#
        ));
        parts.push((format!("xl/worksheets/{file}"), xml.clone()));
    }
    relationships.push_str(&format!(
        r#"<Relationship Id="rId1" Type="{RELATIONSHIPS}/styles" Target="styles.xml"/><Relationship Id="rId2" Type="{RELATIONSHIPS}/theme" Target="theme/theme1.xml"/><Relationship Id="rId3" Type="{RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>"#
    ));
    let strings: String = shared_strings
        .iter()
        .map(|text| format!(r#"<si><t xml:space="preserve">{text}</t></si>"#))
        .collect();
    let mut all: Vec<(&str, String)> = vec![
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#.to_string(),
        ),
        (
            "_rels/.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
        ),
        (
            "xl/workbook.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{MAIN}" xmlns:r="{RELATIONSHIPS}"><sheets>{sheet_entries}</sheets></workbook>"#),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{relationships}</Relationships>"#),
        ),
        ("xl/styles.xml", styles.to_string()),
        ("xl/theme/theme1.xml", theme.to_string()),
        (
            "xl/sharedStrings.xml",
            format!(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN}" count="{0}" uniqueCount="{0}">{strings}</sst>"#, shared_strings.len()),
        ),
    ];
    for (name, xml) in &parts {
        all.push((name.as_str(), xml.clone()));
    }
    package(&all)
}

fn xlsx(rows: &str) -> Vec<u8> {
    xlsx_with(&[("Plan", "visible", worksheet("", rows, ""))], &[])
}

/// An inline-string cell, an optionally styled value cell and a row of cells.
fn text(reference: &str, text: &str) -> String {
    format!(r#"<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>"#)
}

fn value(reference: &str, format: usize, value: &str) -> String {
    format!(r#"<c r="{reference}" s="{format}"><v>{value}</v></c>"#)
}

fn row(number: u32, cells: &[String]) -> String {
    format!(r#"<row r="{number}">{}</row>"#, cells.concat())
}

fn texts(row: &Row) -> Vec<&str> {
    row.cells.iter().map(|cell| cell.text.as_str()).collect()
}

fn fills(row: &Row) -> Vec<Option<Rgb>> {
    row.cells.iter().map(|cell| cell.fill).collect()
}

fn hex(text: &str) -> Option<Rgb> {
    Rgb::from_hex(text)
}

fn sheet_at(row: usize) -> RowAt {
    RowAt { table: None, row }
}

#[test]
fn values_of_each_type_keep_their_own_rows_and_columns() {
    let rows = [
        row(
            3,
            &[text("B3", "Ref"), text("C3", "Action"), text("D3", "Due")],
        ),
        row(
            4,
            &[
                value("B4", 0, "12"),
                r#"<c r="C4" t="s"><v>0</v></c>"#.to_string(),
                value("D4", 1, "45383"),
                value("E4", 2, "45383.4375"),
            ],
        ),
        row(
            5,
            &[
                value("B5", 0, "1.1"),
                value("C5", 0, "0.30000000000000004"),
                value("D5", 2, "45383"),
                value("E5", 2, "0.5"),
                value("F5", 3, "1.5"),
            ],
        ),
        row(
            7,
            &[
                r#"<c r="B7" t="b"><v>1</v></c>"#.to_string(),
                r#"<c r="C7" t="b"><v>0</v></c>"#.to_string(),
                r#"<c r="D7" t="e"><f>1/0</f><v>#DIV/0!</v></c>"#.to_string(),
                r#"<c r="E7" t="e"><v>#N/A</v></c>"#.to_string(),
                r#"<c r="F7"><f>1+1</f><v>2</v></c>"#.to_string(),
                r#"<c r="G7" t="str"><f>"G"&amp;"reen"</f><v>Green</v></c>"#.to_string(),
            ],
        ),
    ]
    .concat();
    let book = xlsx_with(
        &[("Plan", "visible", worksheet("", &rows, ""))],
        &["Line one_x000D_\nLine two\nLine three"],
    );
    let grid = read_xlsx(&book, None).unwrap();
    assert_eq!(grid.description, "Excel workbook, sheet \"Plan\"");
    assert!(grid.lettered_columns);
    assert!(grid.notes.is_empty(), "{:?}", grid.notes);
    let numbers: Vec<RowAt> = grid.rows.iter().map(|row| row.at).collect();
    assert_eq!(numbers, (1..=7).map(sheet_at).collect::<Vec<_>>());
    for row in &grid.rows {
        assert_eq!(row.cells.len(), 7, "columns A to G on every row");
    }
    assert!(grid.rows[0].is_blank() && grid.rows[1].is_blank() && grid.rows[5].is_blank());
    assert_eq!(
        texts(&grid.rows[2]),
        ["", "Ref", "Action", "Due", "", "", ""]
    );
    assert_eq!(
        texts(&grid.rows[3]),
        [
            "",
            "12",
            "Line one\nLine two\nLine three",
            "2024-04-01",
            "2024-04-01 10:30",
            "",
            ""
        ]
    );
    assert_eq!(
        texts(&grid.rows[4]),
        ["", "1.1", "0.3", "2024-04-01", "12:00", "36:00", ""]
    );
    assert_eq!(
        texts(&grid.rows[6]),
        ["", "TRUE", "FALSE", "#DIV/0!", "#N/A", "2", "Green"]
    );
    assert_eq!(grid.rows[2].cells[1], Cell::new("Ref"));
}

fn three_sheets() -> Vec<u8> {
    let sheet = |label: &str| worksheet("", &row(1, &[text("A1", label)]), "");
    xlsx_with(
        &[
            ("Lists", "hidden", sheet("lists")),
            ("Plan", "visible", sheet("plan")),
            ("Notes", "visible", sheet("notes")),
        ],
        &[],
    )
}

#[test]
fn the_first_visible_sheet_is_read_and_the_others_are_listed() {
    let grid = read_xlsx(&three_sheets(), None).unwrap();
    assert_eq!(texts(&grid.rows[0]), ["plan"]);
    assert_eq!(grid.description, "Excel workbook, sheet \"Plan\"");
    assert_eq!(
        grid.notes,
        [
            "The workbook has 3 sheets (\"Lists\" (hidden), \"Plan\", \"Notes\"); \"Plan\" \
             was read. Choose another with --sheet NAME."
        ]
    );
}

#[test]
fn a_sheet_is_chosen_by_name_in_any_case_and_an_unknown_name_lists_the_sheets() {
    let book = three_sheets();
    let grid = read_xlsx(&book, Some("  nOTES ")).unwrap();
    assert_eq!(texts(&grid.rows[0]), ["notes"]);
    assert_eq!(grid.description, "Excel workbook, sheet \"Notes\"");
    assert!(grid.notes[0].contains("\"Notes\" was read"));
    let hidden = read_xlsx(&book, Some("lists")).unwrap();
    assert_eq!(texts(&hidden.rows[0]), ["lists"]);
    assert_eq!(
        read_xlsx(&book, Some("Actions")).unwrap_err().message,
        "the workbook has no sheet \"Actions\"; its sheets are \"Lists\" (hidden), \"Plan\", \
         \"Notes\"; choose one with --sheet NAME"
    );
}

#[test]
fn a_priority_row_merged_across_keeps_columns_aligned() {
    let rows = [
        row(
            1,
            &[text("A1", "Ref"), text("B1", "Action"), text("C1", "RAG")],
        ),
        row(
            2,
            &[
                r#"<c r="A2" s="6" t="inlineStr"><is><t>Priority 1: Early help</t></is></c>"#
                    .to_string(),
                r#"<c r="B2" s="6"/>"#.to_string(),
                r#"<c r="C2" s="6"/>"#.to_string(),
            ],
        ),
        row(
            3,
            &[text("A3", "1.1"), text("B3", "Audit"), text("C3", "G")],
        ),
    ]
    .concat();
    let book = xlsx_with(
        &[(
            "Plan",
            "visible",
            worksheet(
                "",
                &rows,
                r#"<mergeCells count="1"><mergeCell ref="A2:C2"/></mergeCells>"#,
            ),
        )],
        &[],
    );
    let grid = read_xlsx(&book, None).unwrap();
    let fill = hex("4472C4");
    assert_eq!(
        grid.rows[1].cells,
        vec![
            Cell {
                text: "Priority 1: Early help".into(),
                fill,
                span: 3,
                covered: false
            },
            Cell {
                text: String::new(),
                fill,
                span: 1,
                covered: true
            },
            Cell {
                text: String::new(),
                fill,
                span: 1,
                covered: true
            },
        ]
    );
    assert_eq!(texts(&grid.rows[2]), ["1.1", "Audit", "G"]);
}

#[test]
fn a_cell_merged_down_copies_its_text_into_each_row() {
    let rows = [
        row(
            1,
            &[
                text("A1", "Ref"),
                text("B1", "Lead"),
                text("C1", "Due"),
                text("D1", "Notes"),
            ],
        ),
        row(
            2,
            &[
                text("A2", "1.1"),
                r#"<c r="B2" s="5" t="inlineStr"><is><t>Head of Service</t></is></c>"#.to_string(),
                text("C2", "March"),
            ],
        ),
        row(3, &[text("A3", "1.2"), r#"<c r="B3" s="5"/>"#.to_string()]),
        row(4, &[text("A4", "1.3")]),
        row(5, &[text("A5", "2.1"), text("B5", "Chair")]),
    ]
    .concat();
    let merges =
        r#"<mergeCells count="2"><mergeCell ref="B2:B4"/><mergeCell ref="C2:D3"/></mergeCells>"#;
    let book = xlsx_with(&[("Plan", "visible", worksheet("", &rows, merges))], &[]);
    let grid = read_xlsx(&book, None).unwrap();
    let green = hex("C6E0B4");
    let lead = |row: usize| grid.rows[row].cells[1].clone();
    assert_eq!(
        lead(1),
        Cell {
            text: "Head of Service".into(),
            fill: green,
            span: 1,
            covered: false
        }
    );
    for row in [2, 3] {
        assert_eq!(
            lead(row),
            Cell {
                text: "Head of Service".into(),
                fill: green,
                span: 1,
                covered: true
            }
        );
    }
    assert_eq!(lead(4), Cell::new("Chair"));
    // A range merged both across and down: the top row as a merge across, the
    // row below with the text in its first cell.
    assert_eq!(grid.rows[1].cells[2].span, 2);
    assert_eq!(texts(&grid.rows[1])[2..], ["March", ""]);
    assert!(grid.rows[1].cells[3].covered);
    assert_eq!(
        grid.rows[2].cells[2],
        Cell {
            text: "March".into(),
            fill: None,
            span: 2,
            covered: true
        }
    );
    assert_eq!(
        grid.rows[2].cells[3],
        Cell {
            text: String::new(),
            fill: None,
            span: 1,
            covered: true
        }
    );
    assert_eq!(texts(&grid.rows[3]), ["1.3", "Head of Service", "", ""]);
}

#[test]
fn fills_resolve_rgb_theme_tint_palette_and_gradients() {
    let cells: Vec<String> = (0..FILLS.len())
        .map(|index| {
            let reference = format!("{}1", column_letters(index + 1));
            text(&reference, &index.to_string()).replacen(
                "<c ",
                &format!(r#"<c s="{}" "#, index + 4),
                1,
            )
        })
        .collect();
    let grid = read_xlsx(&xlsx(&row(1, &cells)), None).unwrap();
    assert_eq!(
        fills(&grid.rows[0]),
        [
            hex("FFC000"),
            hex("C6E0B4"),
            hex("4472C4"),
            Some(apply_tint_for_test("70AD47", -0.249977111117893)),
            hex("FF0000"),
            hex("00FF00"),
            hex("FFFF00"),
            hex("C0C0C0"),
            None,
            hex("00B050"),
            hex("92D050"),
            None,
        ]
    );
    // Green, Accent 6, Darker 25% is 548235 in Excel's palette.
    let darker = grid.rows[0].cells[3].fill.unwrap();
    assert!(
        darker.0.abs_diff(0x54) <= 1
            && darker.1.abs_diff(0x82) <= 1
            && darker.2.abs_diff(0x35) <= 1
    );
}

fn apply_tint_for_test(base: &str, tint: f64) -> Rgb {
    super::style::apply_tint(Rgb::from_hex(base).unwrap(), tint)
}

#[test]
fn a_coloured_empty_cell_counts_and_row_and_column_formats_colour_the_cells_they_reach() {
    let rows = [
        row(1, &[text("A1", "Action"), text("B1", "RAG")]),
        row(
            2,
            &[
                text("A2", "Audit"),
                r#"<c r="B2" s="8"/>"#.to_string(),
                r#"<c r="D2" s="10"/>"#.to_string(),
            ],
        ),
        r#"<row r="3" s="9" customFormat="1">"#.to_string()
            + &text("A3", "Train")
            + r#"<c r="B3" s="9"/></row>"#,
    ]
    .concat();
    // Column C is formatted grey as a whole; a format reaching to the edge of the
    // sheet colours the cells it reaches without making the sheet any wider.
    let columns = r#"<cols><col min="3" max="3" width="9" style="11" customWidth="1"/><col min="5" max="16384" width="9" style="8"/></cols>"#;
    let book = xlsx_with(&[("Plan", "visible", worksheet(columns, &rows, ""))], &[]);
    let grid = read_xlsx(&book, None).unwrap();
    assert_eq!(grid.rows.len(), 3);
    assert_eq!(
        fills(&grid.rows[0]),
        [None, None, hex("C0C0C0"), None],
        "cells absent from the file take their column's format"
    );
    assert_eq!(
        fills(&grid.rows[1]),
        [None, hex("FF0000"), hex("C0C0C0"), hex("FFFF00")]
    );
    assert_eq!(texts(&grid.rows[1]), ["Audit", "", "", ""]);
    // A cell in the file without a format of its own shows none, whatever its
    // row's format (Excel writes the row's format into the cells it formats).
    assert_eq!(
        fills(&grid.rows[2]),
        [None, hex("00FF00"), hex("00FF00"), hex("00FF00")],
        "a row's own format wins over its columns'"
    );
    assert_eq!(
        fills(&grid.rows[2]).len(),
        4,
        "column formats to the edge of the sheet do not widen it"
    );
}

#[test]
fn conditional_formatting_and_hidden_rows_and_columns_are_noted() {
    let rows = [
        row(
            1,
            &[
                text("A1", "Ref"),
                text("B1", "Action"),
                text("C1", "RAG"),
                text("D1", "Lead"),
            ],
        ),
        r#"<row r="2" hidden="1">"#.to_string() + &text("A2", "1.1") + "</row>",
        r#"<row r="3" hidden="1">"#.to_string() + &text("A3", "1.2") + "</row>",
        row(4, &[text("A4", "1.3")]),
        r#"<row r="5" hidden="true">"#.to_string() + &text("A5", "1.4") + "</row>",
        r#"<row r="20" hidden="1"/>"#.to_string(),
    ]
    .concat();
    let columns = r#"<cols><col min="2" max="2" width="0" hidden="1"/></cols>"#;
    let conditional = r#"<conditionalFormatting sqref="C2:C5"><cfRule type="cellIs" dxfId="0" priority="1" operator="equal"><formula>"R"</formula></cfRule></conditionalFormatting>"#;
    let book = xlsx_with(
        &[("Plan", "visible", worksheet(columns, &rows, conditional))],
        &[],
    );
    let grid = read_xlsx(&book, None).unwrap();
    assert_eq!(
        grid.rows.len(),
        5,
        "hidden rows are read and the empty row 20 is not"
    );
    assert_eq!(texts(&grid.rows[1])[0], "1.1");
    assert_eq!(
        grid.notes,
        [
            "The sheet colours cells by conditional formatting, which is not read; statuses \
             come from the cells' own text and fill.",
            "Rows 2–3 and 5 and column B are hidden in the sheet; they were read all the same.",
        ]
    );
}

#[test]
fn hidden_notes_name_runs_and_sum_up_long_lists() {
    assert_eq!(
        hidden_note(&[3], &[]).unwrap(),
        "Row 4 is hidden in the sheet; it was read all the same."
    );
    assert_eq!(
        hidden_note(&[], &[2, 3, 4, 26]).unwrap(),
        "Columns C–E and AA are hidden in the sheet; they were read all the same."
    );
    let many: Vec<u32> = (0..40).map(|row| row * 2).collect();
    let note = hidden_note(&many, &[]).unwrap();
    assert!(note.starts_with("Rows 1, 3, 5,"), "{note}");
    assert!(note.contains("and 30 more are hidden"), "{note}");
    assert_eq!(hidden_note(&[], &[]), None);
}

#[test]
fn an_empty_sheet_is_refused_naming_the_others() {
    let book = xlsx_with(
        &[
            ("Plan", "visible", worksheet("", "", "")),
            (
                "Actions",
                "visible",
                worksheet("", &row(1, &[text("A1", "x")]), ""),
            ),
        ],
        &[],
    );
    assert_eq!(
        read_xlsx(&book, None).unwrap_err().message,
        "sheet \"Plan\" is empty; the workbook's other sheets are \"Actions\": choose one \
         with --sheet NAME"
    );
    let coloured = xlsx(&row(2, &[r#"<c r="B2" s="8"/>"#.to_string()]));
    assert_eq!(
        read_xlsx(&coloured, None).unwrap_err().message,
        "sheet \"Plan\" has no text in any cell, only colours and the workbook has no other \
         sheet; check that this is the file that holds the plan"
    );
}

#[test]
fn files_that_are_not_workbooks_say_what_they_are() {
    let not_zip = read_xlsx(b"Ref,Action\n1,Audit\n", None)
        .unwrap_err()
        .message;
    assert!(
        not_zip.starts_with("the file is not an Excel workbook (it is not a zip package"),
        "{not_zip}"
    );
    let mut compound = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    compound.extend_from_slice(&[0; 512]);
    assert!(read_xlsx(&compound, None)
        .unwrap_err()
        .message
        .contains("older Excel .xls"));
    let spreadsheet = ods(&table("Plan", "", &ods_row(&[ods_text("x")])), "", "");
    assert!(read_xlsx(&spreadsheet, None)
        .unwrap_err()
        .message
        .contains("OpenDocument spreadsheet, not an Excel workbook"));
    assert!(read_ods(&xlsx(&row(1, &[text("A1", "x")])), None)
        .unwrap_err()
        .message
        .contains("Excel workbook, not an OpenDocument"));
}

#[test]
fn damaged_styles_are_refused_with_the_part_named() {
    let broken = styles().replace("</fills>", "</fill>");
    let sheets = [(
        "Plan",
        "visible",
        worksheet("", &row(1, &[text("A1", "x")]), ""),
    )];
    let book = xlsx_styled(&sheets, &[], &broken, &theme());
    let message = read_xlsx(&book, None).unwrap_err().message;
    assert!(message.contains("xl/styles.xml"), "{message}");
    assert!(
        message.ends_with("open it in Excel, save it again as .xlsx and import again"),
        "{message}"
    );
}

#[test]
fn numbers_dates_and_durations_are_written_as_people_read_them() {
    assert_eq!(number_text(12.0), "12");
    assert_eq!(number_text(-0.0), "0");
    assert_eq!(number_text(1.1), "1.1");
    assert_eq!(number_text(0.1 + 0.2), "0.3");
    assert_eq!(number_text(1234567.125), "1234567.125");
    assert_eq!(number_text(1e20), "100000000000000000000");
    assert_eq!(iso_date_text("2024-03-01"), "2024-03-01");
    assert_eq!(iso_date_text("2024-03-01T00:00:00"), "2024-03-01");
    assert_eq!(iso_date_text("2024-03-01T10:30:00.000"), "2024-03-01 10:30");
    assert_eq!(iso_date_text("soon"), "soon");
    assert_eq!(iso_duration_text("PT10H30M00S"), "10:30");
    assert_eq!(iso_duration_text("PT36H00M15S"), "36:00:15");
    assert_eq!(iso_duration_text("-P1DT1H"), "-25:00");
    assert_eq!(iso_duration_text("PT1X"), "PT1X");
    assert_eq!(with_plain_line_breaks("a\r\nb\rc\nd"), "a\nb\nc\nd");
}

#[test]
fn relationship_targets_resolve_like_paths() {
    assert_eq!(
        resolve_target("xl", "worksheets/sheet1.xml"),
        "xl/worksheets/sheet1.xml"
    );
    assert_eq!(
        resolve_target("xl", "/xl/worksheets/a.xml"),
        "xl/worksheets/a.xml"
    );
    assert_eq!(resolve_target("xl/sub", "../styles.xml"), "xl/styles.xml");
    assert_eq!(resolve_target("", "xl\\workbook.xml"), "xl/workbook.xml");
}

// OpenDocument.

const OFFICE: &str = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0""#;

/// An OpenDocument spreadsheet with the given tables, automatic styles and common
/// styles.
fn ods(tables: &str, automatic_styles: &str, common_styles: &str) -> Vec<u8> {
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content {OFFICE} office:version="1.3"><office:automatic-styles>{automatic_styles}</office:automatic-styles><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"#
    );
    let styles = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-styles {OFFICE} office:version="1.3"><office:styles>{common_styles}</office:styles></office:document-styles>"#
    );
    package(&[
        ("mimetype", "application/vnd.oasis.opendocument.spreadsheet".to_string()),
        (
            "META-INF/manifest.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#.to_string(),
        ),
        ("styles.xml", styles),
        ("content.xml", content),
    ])
}

fn table(name: &str, columns: &str, rows: &str) -> String {
    format!(r#"<table:table table:name="{name}">{columns}{rows}</table:table>"#)
}

fn ods_row(cells: &[String]) -> String {
    format!("<table:table-row>{}</table:table-row>", cells.concat())
}

fn ods_text(text: &str) -> String {
    format!(
        r#"<table:table-cell office:value-type="string" calcext:value-type="string"><text:p>{text}</text:p></table:table-cell>"#
    )
}

fn ods_empty(attributes: &str) -> String {
    format!("<table:table-cell {attributes}/>")
}

#[test]
fn an_opendocument_sheet_keeps_colours_spans_and_repeats() {
    let automatic = r##"<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style><style:style style:name="ce1" style:family="table-cell" style:parent-style-name="Default"><style:table-cell-properties fo:background-color="#ff0000"/></style:style><style:style style:name="ce2" style:family="table-cell" style:parent-style-name="Good"/><style:style style:name="ce3" style:family="table-cell"><style:table-cell-properties fo:background-color="transparent"/></style:style><style:style style:name="ce4" style:family="table-cell"><style:table-cell-properties fo:background-color="#ffff00"/></style:style>"##;
    let common = r##"<style:style style:name="Default" style:family="table-cell"/><style:style style:name="Good" style:family="table-cell" style:parent-style-name="Default"><style:table-cell-properties fo:background-color="#ccffcc"/></style:style>"##;
    let columns = r#"<table:table-column table:number-columns-repeated="2" table:default-cell-style-name="Default"/><table:table-column table:default-cell-style-name="ce4"/><table:table-column table:number-columns-repeated="1021" table:default-cell-style-name="Default"/>"#;
    let rows = [
        ods_row(&[ods_text("Ref"), ods_text("Action"), ods_text("RAG"), ods_empty(r#"table:number-columns-repeated="1021""#)]),
        // A priority row spanning three columns, coloured red.
        ods_row(&[
            r#"<table:table-cell table:style-name="ce1" table:number-columns-spanned="3" table:number-rows-spanned="1" office:value-type="string"><text:p>Priority 1</text:p></table:table-cell><table:covered-table-cell table:number-columns-repeated="2" table:style-name="ce1"/>"#.to_string(),
        ]),
        // Two identical rows written once, with a cell repeated across two columns.
        r#"<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="2" office:value-type="string"><text:p>same</text:p></table:table-cell><table:table-cell table:style-name="ce2"/></table:table-row>"#.to_string(),
        // Blank rows between, then one with a transparent cell and a line break.
        r#"<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#.to_string(),
        ods_row(&[
            ods_empty(r#"table:style-name="ce3""#),
            r#"<table:table-cell office:value-type="float" office:value="0.45" calcext:value-type="percentage"><text:p>45%</text:p></table:table-cell>"#.to_string(),
            r#"<table:table-cell office:value-type="string"><text:p>one<text:line-break/>two</text:p><text:p>three</text:p></table:table-cell>"#.to_string(),
        ]),
        // The rest of the sheet, formatted as a whole by LibreOffice.
        r#"<table:table-row table:number-rows-repeated="1048568"><table:table-cell table:style-name="ce1" table:number-columns-repeated="1024"/></table:table-row>"#.to_string(),
    ]
    .concat();
    let spreadsheet = ods(
        &table("Plan", columns, &rows)
            .replace("<table:table ", r#"<table:table table:style-name="ta1" "#),
        automatic,
        common,
    );
    let grid = read_ods(&spreadsheet, None).unwrap();
    assert_eq!(grid.description, "OpenDocument spreadsheet, sheet \"Plan\"");
    assert!(grid.lettered_columns);
    assert!(grid.notes.is_empty(), "{:?}", grid.notes);
    assert_eq!(
        grid.rows.len(),
        8,
        "the repeated rest of the sheet is not expanded"
    );
    assert!(grid.rows.iter().all(|row| row.cells.len() == 3));
    assert_eq!(texts(&grid.rows[0]), ["Ref", "Action", "RAG"]);
    assert_eq!(
        fills(&grid.rows[0]),
        [None, None, hex("FFFF00")],
        "column default style"
    );
    let red = hex("FF0000");
    assert_eq!(
        grid.rows[1].cells,
        vec![
            Cell {
                text: "Priority 1".into(),
                fill: red,
                span: 3,
                covered: false
            },
            Cell {
                text: String::new(),
                fill: red,
                span: 1,
                covered: true
            },
            Cell {
                text: String::new(),
                fill: red,
                span: 1,
                covered: true
            },
        ]
    );
    for row in [2, 3] {
        assert_eq!(texts(&grid.rows[row]), ["same", "same", ""]);
        assert_eq!(
            fills(&grid.rows[row]),
            [None, None, hex("CCFFCC")],
            "inherited from Good"
        );
    }
    for row in 4..7 {
        assert!(grid.rows[row].is_blank());
        assert_eq!(grid.rows[row].at, sheet_at(row + 1));
    }
    assert_eq!(texts(&grid.rows[7]), ["", "0.45", "one\ntwo\nthree"]);
    assert_eq!(fills(&grid.rows[7]), [None, None, hex("FFFF00")]);
}

#[test]
fn an_opendocument_cell_merged_down_copies_its_text() {
    let rows = [
        ods_row(&[ods_text("1.1"), r#"<table:table-cell table:number-rows-spanned="2" office:value-type="string"><text:p>Lead</text:p></table:table-cell>"#.to_string()]),
        ods_row(&[ods_text("1.2"), "<table:covered-table-cell/>".to_string()]),
        ods_row(&[ods_text("1.3"), ods_empty("")]),
    ]
    .concat();
    let grid = read_ods(&ods(&table("Plan", "", &rows), "", ""), None).unwrap();
    assert_eq!(texts(&grid.rows[1]), ["1.2", "Lead"]);
    assert!(grid.rows[1].cells[1].covered);
    assert!(!grid.rows[0].cells[1].covered);
    assert_eq!(texts(&grid.rows[2]), ["1.3", ""]);
}

#[test]
fn opendocument_sheets_values_hidden_parts_and_conditions() {
    let automatic = r##"<style:style style:name="ta_hidden" style:family="table"><style:table-properties table:display="false"/></style:style><style:style style:name="ce9" style:family="table-cell"><style:map style:condition="cell-content()=&quot;R&quot;" style:apply-style-name="Bad" style:base-cell-address="Plan.C2"/></style:style>"##;
    let hidden = table("Lists", "", &ods_row(&[ods_text("list")])).replace(
        "<table:table ",
        r#"<table:table table:style-name="ta_hidden" "#,
    );
    let columns = r#"<table:table-column/><table:table-column table:visibility="collapse"/>"#;
    let rows = [
        ods_row(&[ods_text("Due"), ods_text("Done"), ods_text("RAG")]),
        r#"<table:table-row table:visibility="collapse">"#.to_string()
            + r#"<table:table-cell office:value-type="date" office:date-value="2024-04-01"><text:p>01/04/24</text:p></table:table-cell>"#
            + r#"<table:table-cell office:value-type="boolean" office:boolean-value="true"><text:p>TRUE</text:p></table:table-cell>"#
            + r#"<table:table-cell table:style-name="ce9" office:value-type="string"><text:p>R</text:p></table:table-cell></table:table-row>"#,
        ods_row(&[
            r#"<table:table-cell office:value-type="date" office:date-value="2024-04-01T10:30:00"><text:p>x</text:p></table:table-cell>"#.to_string(),
            r#"<table:table-cell office:value-type="time" office:time-value="PT09H15M00S"><text:p>09:15</text:p></table:table-cell>"#.to_string(),
            r#"<table:table-cell office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell>"#.to_string(),
        ]),
    ]
    .concat();
    let spreadsheet = ods(&(hidden + &table("Plan", columns, &rows)), automatic, "");
    let grid = read_ods(&spreadsheet, None).unwrap();
    assert_eq!(grid.description, "OpenDocument spreadsheet, sheet \"Plan\"");
    assert_eq!(texts(&grid.rows[1]), ["2024-04-01", "TRUE", "R"]);
    assert_eq!(texts(&grid.rows[2]), ["2024-04-01 10:30", "09:15", "3"]);
    assert_eq!(
        grid.notes,
        [
            "The spreadsheet has 2 sheets (\"Lists\" (hidden), \"Plan\"); \"Plan\" was read. \
             Choose another with --sheet NAME.",
            "The sheet colours cells by conditional formatting, which is not read; statuses \
             come from the cells' own text and fill.",
            "Row 2 and column B are hidden in the sheet; they were read all the same.",
        ]
    );
    let lists = read_ods(&spreadsheet, Some("LISTS")).unwrap();
    assert_eq!(texts(&lists.rows[0]), ["list"]);
    assert!(read_ods(&spreadsheet, Some("Plan2"))
        .unwrap_err()
        .message
        .starts_with(
            "the spreadsheet has no sheet \"Plan2\"; its sheets are \"Lists\" (hidden), \"Plan\""
        ));
    let empty = ods(&table("Plan", "", &ods_row(&[ods_empty("")])), "", "");
    assert!(read_ods(&empty, None)
        .unwrap_err()
        .message
        .starts_with("sheet \"Plan\" is empty"));
}

// Robustness.

/// Every prefix and many single-bit changes of a valid file are refused or read,
/// never a panic.
fn survives_damage(file: &[u8], read: fn(&[u8], Option<&str>) -> Result<Grid, Unreadable>) {
    let step = (file.len() / 300).max(1);
    for length in (0..file.len()).step_by(step) {
        let _ = read(&file[..length], None);
    }
    for position in (0..file.len()).step_by(step) {
        for bit in [0, 3, 7] {
            let mut damaged = file.to_vec();
            damaged[position] ^= 1 << bit;
            let _ = read(&damaged, None);
        }
    }
}

fn sample_xlsx_rows() -> String {
    [
        row(1, &[text("A1", "Ref"), text("B1", "Action")]),
        row(2, &[value("A2", 4, "1.1"), text("B2", "Audit")]),
    ]
    .concat()
}

#[test]
fn truncated_or_bit_flipped_workbooks_never_panic() {
    let book = xlsx_with(
        &[(
            "Plan",
            "visible",
            worksheet(
                r#"<cols><col min="1" max="2" style="5"/></cols>"#,
                &sample_xlsx_rows(),
                r#"<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>"#,
            ),
        )],
        &["shared"],
    );
    assert!(read_xlsx(&book, None).is_ok());
    survives_damage(&book, read_xlsx);
}

#[test]
fn truncated_or_bit_flipped_spreadsheets_never_panic() {
    let spreadsheet = ods(
        &table("Plan", r#"<table:table-column table:number-columns-repeated="2"/>"#, &ods_row(&[ods_text("Ref"), r#"<table:table-cell table:style-name="ce1" table:number-columns-spanned="2" office:value-type="string"><text:p>x</text:p></table:table-cell><table:covered-table-cell/>"#.to_string()])),
        r##"<style:style style:name="ce1" style:family="table-cell"><style:table-cell-properties fo:background-color="#00ff00"/></style:style>"##,
        "",
    );
    assert!(read_ods(&spreadsheet, None).is_ok());
    survives_damage(&spreadsheet, read_ods);
}

/// A change to one part's XML text: `cut` bytes removed at `at`, `insert` put there.
fn mutate(xml: &str, at: usize, cut: usize, insert: &str) -> String {
    let mut bytes = xml.as_bytes().to_vec();
    let at = at % (bytes.len() + 1);
    let end = (at + cut).min(bytes.len());
    bytes.splice(at..end, insert.bytes());
    String::from_utf8_lossy(&bytes).into_owned()
}

const FRAGMENTS: [&str; 12] = [
    "",
    "<",
    "\"",
    "r=\"XFD1048576\"",
    "s=\"99999999999\"",
    "<mergeCell ref=\"A1:XFD1048576\"/>",
    "<row r=\"0\">",
    "</sheetData>",
    "table:number-columns-repeated=\"99999999\" ",
    "table:number-rows-spanned=\"4294967295\" ",
    "<c r=\"A1\" s=\"1\" t=\"d\"><v>x</v></c>",
    "&#0;",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn mutated_workbook_parts_never_panic(
        part in 0usize..3,
        at in any::<usize>(),
        cut in 0usize..40,
        fragment in 0usize..FRAGMENTS.len(),
    ) {
        let mut sheet = worksheet(r#"<cols><col min="1" max="3" style="6" hidden="1"/></cols>"#, &sample_xlsx_rows(), r#"<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells><conditionalFormatting sqref="A1"/>"#);
        let mut styles_text = styles();
        let mut theme_text = theme();
        let insert = FRAGMENTS[fragment];
        match part {
            0 => sheet = mutate(&sheet, at, cut, insert),
            1 => styles_text = mutate(&styles_text, at, cut, insert),
            _ => theme_text = mutate(&theme_text, at, cut, insert),
        }
        let book = xlsx_styled(&[("Plan", "visible", sheet)], &[], &styles_text, &theme_text);
        let _ = read_xlsx(&book, None);
    }

    #[test]
    fn mutated_spreadsheet_content_never_panics(
        at in any::<usize>(),
        cut in 0usize..40,
        fragment in 0usize..FRAGMENTS.len(),
    ) {
        let rows = [
            ods_row(&[ods_text("Ref"), r#"<table:table-cell table:style-name="ce1" table:number-columns-spanned="2" table:number-rows-spanned="2" office:value-type="string"><text:p>x</text:p></table:table-cell><table:covered-table-cell/>"#.to_string()]),
            r#"<table:table-row table:number-rows-repeated="3" table:visibility="collapse"><table:table-cell table:number-columns-repeated="3" table:style-name="ce1"/></table:table-row>"#.to_string(),
        ].concat();
        let content = table("Plan", r#"<table:table-column table:number-columns-repeated="3" table:default-cell-style-name="ce1"/>"#, &rows);
        let content = mutate(&content, at, cut, FRAGMENTS[fragment]);
        let _ = read_ods(&ods(&content, r##"<style:style style:name="ce1" style:family="table-cell"><style:table-cell-properties fo:background-color="#00ff00"/></style:style>"##, ""), None);
    }
}

#[test]
fn a_value_repeated_into_millions_of_cells_is_refused_before_it_is_expanded() {
    let rows = ods_row(&[r#"<table:table-cell table:number-columns-repeated="99999999" office:value-type="string"><text:p>x</text:p></table:table-cell>"#.to_string()]);
    let content = table("Plan", "", &rows);
    let started = std::time::Instant::now();
    let message = read_ods(&ods(&content, "", ""), None).unwrap_err().message;
    assert!(message.contains("more than 2000000 cells"), "{message}");
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn a_sheet_reaching_the_last_cell_is_refused_without_spending_memory() {
    let rows = [
        row(1, &[text("A1", "x")]),
        row(1048576, &[text("XFD1048576", "y")]),
    ]
    .concat();
    let message = read_xlsx(&xlsx(&rows), None).unwrap_err().message;
    assert!(
        message.starts_with("sheet \"Plan\" reaches row 1048576 and column XFD"),
        "{message}"
    );
}

#[test]
fn a_large_plan_reads_quickly() {
    let rows: String = (1..=10_000u32)
        .map(|number| {
            let cells: Vec<String> = (0..12usize)
                .map(|column| {
                    let reference = format!("{}{number}", column_letters(column + 1));
                    match column {
                        0 => value(&reference, 0, &number.to_string()),
                        11 => {
                            format!(r#"<c r="{reference}" s="{}"/>"#, 4 + number as usize % 4)
                        }
                        _ => text(&reference, &format!("Action {number} step {column}")),
                    }
                })
                .collect();
            row(number, &cells)
        })
        .collect();
    let book = xlsx(&rows);
    let started = std::time::Instant::now();
    let grid = read_xlsx(&book, None).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(grid.rows.len(), 10_000);
    assert_eq!(grid.rows[9_999].cells.len(), 12);
    assert_eq!(grid.rows[9_999].cells[0].text, "10000");
    assert!(grid.rows[9_999].cells[11].fill.is_some());
    // Generous for an unoptimised test build on a busy machine; a release build
    // takes a small fraction of this.
    assert!(elapsed.as_secs_f64() < 5.0, "took {elapsed:?}");
}
