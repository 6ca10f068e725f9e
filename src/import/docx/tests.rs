//! Tests of the docx reader.

#![allow(clippy::unwrap_used)]

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::ZipWriter;

use super::super::grid::{Cell, Rgb, Row, RowAt};
use super::numbering::format_list_number;
use super::package::{open_package, read_part_within};
use super::shading::tint_and_shade;
use super::*;

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// A .docx package holding the given parts, as Word lays them out.
fn package(parts: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut all = vec![
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#,
        ),
    ];
    all.extend_from_slice(parts);
    for (name, text) in all {
        zip.start_file(name, SimpleFileOptions::default()).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn document(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>{body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>"#
    )
}

fn docx(body: &str) -> Vec<u8> {
    package(&[("word/document.xml", &document(body))])
}

fn read(body: &str) -> Grid {
    read_docx(&docx(body)).unwrap()
}

fn p(text: &str) -> String {
    format!(r#"<w:p><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#)
}

fn tc(text: &str) -> String {
    format!(
        "<w:tc><w:tcPr><w:tcW w:w=\"2000\" w:type=\"dxa\"/></w:tcPr>{}</w:tc>",
        p(text)
    )
}

fn tr(cells: &[&str]) -> String {
    let cells: String = cells.iter().map(|text| tc(text)).collect();
    format!("<w:tr>{cells}</w:tr>")
}

fn tbl(rows: &[String]) -> String {
    format!(
        "<w:tbl><w:tblPr><w:tblStyle w:val=\"TableGrid\"/></w:tblPr><w:tblGrid><w:gridCol/></w:tblGrid>{}</w:tbl>",
        rows.concat()
    )
}

fn texts(row: &Row) -> Vec<&str> {
    row.cells.iter().map(|cell| cell.text.as_str()).collect()
}

fn at(table: usize, row: usize) -> RowAt {
    RowAt {
        table: Some(table),
        row,
    }
}

#[test]
fn two_tables_in_order_with_the_paragraphs_around_them() {
    let body = [
        p("Safeguarding Partnership Action Plan"),
        p(""),
        p("Priority 1: Early help"),
        tbl(&[tr(&["Ref", "Action"]), tr(&["1.1", "Audit referrals"])]),
        p("Priority 2: Neglect"),
        tbl(&[tr(&["Ref", "Action"]), tr(&["2.1", "Train staff"])]),
        p("Signed: Chair"),
        p("Date: 1 April"),
    ]
    .concat();
    let grid = read(&body);
    let rows: Vec<(RowAt, Vec<&str>)> = grid.rows.iter().map(|row| (row.at, texts(row))).collect();
    assert_eq!(
        rows,
        vec![
            (at(1, 0), vec!["Safeguarding Partnership Action Plan"]),
            (at(1, 0), vec!["Priority 1: Early help"]),
            (at(1, 1), vec!["Ref", "Action"]),
            (at(1, 2), vec!["1.1", "Audit referrals"]),
            (at(2, 0), vec!["Priority 2: Neglect"]),
            (at(2, 1), vec!["Ref", "Action"]),
            (at(2, 2), vec!["2.1", "Train staff"]),
        ]
    );
    assert_eq!(grid.description, "Word document, 2 tables");
    assert!(!grid.lettered_columns);
    assert_eq!(
        grid.notes,
        vec!["2 paragraphs after the last table were not read."]
    );
    assert_eq!(grid.rows[2].cells[0], Cell::new("Ref"));
}

#[test]
fn one_table_is_described_in_the_singular_and_tables_in_content_controls_count() {
    let body = format!(
        "<w:sdt><w:sdtPr><w:alias w:val=\"Plan\"/><w:placeholder><w:docPart w:val=\"x\"/></w:placeholder></w:sdtPr><w:sdtContent>{}</w:sdtContent></w:sdt>",
        tbl(&[tr(&["a"])])
    );
    let grid = read(&body);
    assert_eq!(grid.description, "Word document, 1 table");
    assert_eq!(grid.rows.len(), 1);
    assert_eq!(grid.rows[0].at, at(1, 1));
    assert!(grid.notes.is_empty());
}

#[test]
fn a_priority_row_merged_across_keeps_columns_aligned() {
    let merged = r#"<w:tr><w:tc><w:tcPr><w:gridSpan w:val="3"/><w:shd w:val="clear" w:color="auto" w:fill="D9E2F3"/></w:tcPr><w:p><w:r><w:t>Priority 1: Early help</w:t></w:r></w:p></w:tc></w:tr>"#;
    let grid = read(&tbl(&[
        tr(&["Ref", "Action", "RAG"]),
        merged.to_string(),
        tr(&["1.1", "Audit", "G"]),
    ]));
    let row = &grid.rows[1];
    let fill = Some(Rgb(0xD9, 0xE2, 0xF3));
    assert_eq!(
        row.cells,
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
    assert_eq!(texts(&grid.rows[2]), vec!["1.1", "Audit", "G"]);
}

#[test]
fn a_cell_merged_down_copies_the_text_above() {
    let restart = r#"<w:tc><w:tcPr><w:vMerge w:val="restart"/><w:shd w:val="clear" w:fill="00B050"/></w:tcPr><w:p><w:r><w:t>Lead: Head of Service</w:t></w:r></w:p></w:tc>"#;
    let continued = r#"<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>"#;
    let continued_explicitly =
        r#"<w:tc><w:tcPr><w:vMerge w:val="continue"/></w:tcPr><w:p/></w:tc>"#;
    let grid = read(&tbl(&[
        format!("<w:tr>{}{restart}</w:tr>", tc("1.1")),
        format!("<w:tr>{}{continued}</w:tr>", tc("1.2")),
        format!("<w:tr>{}{continued_explicitly}</w:tr>", tc("1.3")),
    ]));
    let first = &grid.rows[0].cells[1];
    assert!(!first.covered);
    for row in &grid.rows[1..] {
        let cell = &row.cells[1];
        assert!(cell.covered);
        assert_eq!(cell.text, "Lead: Head of Service");
        assert_eq!(cell.fill, Some(Rgb(0, 0xB0, 0x50)));
    }
}

#[test]
fn paragraphs_breaks_and_tabs_make_lines_without_blank_ones_at_the_ends() {
    let cell = concat!(
        "<w:tc><w:p/><w:p><w:r><w:t xml:space=\"preserve\">   </w:t></w:r></w:p>",
        "<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr>",
        "<w:r><w:t>First</w:t></w:r><w:r><w:tab/><w:t>point</w:t></w:r></w:p>",
        "<w:p/><w:p/>",
        "<w:p><w:r><w:t>Second</w:t><w:br/><w:t>line</w:t><w:cr/><w:t>co</w:t>",
        "<w:noBreakHyphen/><w:t>ordinate</w:t><w:softHyphen/><w:t>d</w:t></w:r></w:p>",
        "<w:p><w:r><w:br/></w:r></w:p><w:p/></w:tc>"
    );
    let grid = read(&tbl(&[format!("<w:tr>{cell}</w:tr>")]));
    assert_eq!(
        grid.rows[0].cells[0].text,
        "First\tpoint\nSecond\nline\nco-ordinated"
    );
}

#[test]
fn tracked_deletions_field_codes_and_hidden_text_are_left_out() {
    let cell = concat!(
        "<w:tc><w:p>",
        "<w:del w:id=\"1\" w:author=\"A\"><w:r><w:delText>Old target</w:delText></w:r><w:r><w:tab/></w:r></w:del>",
        "<w:ins w:id=\"2\" w:author=\"A\"><w:r><w:t>New target</w:t></w:r></w:ins>",
        "<w:r><w:t xml:space=\"preserve\"> (see </w:t></w:r>",
        "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r><w:r><w:instrText> HYPERLINK \"x\" </w:instrText></w:r>",
        "<w:r><w:fldChar w:fldCharType=\"separate\"/></w:r>",
        "<w:hyperlink r:id=\"rId5\" xmlns:r=\"r\"><w:r><w:t>guidance</w:t></w:r></w:hyperlink>",
        "<w:r><w:fldChar w:fldCharType=\"end\"/></w:r><w:r><w:t>)</w:t></w:r>",
        "<w:r><w:rPr><w:vanish/></w:rPr><w:t>secret</w:t></w:r>",
        "<w:r><w:rPr><w:vanish w:val=\"0\"/></w:rPr><w:t>.</w:t></w:r>",
        "<w:moveFrom w:id=\"3\"><w:r><w:t>moved away</w:t></w:r></w:moveFrom>",
        "<w:r><w:rPr><w:rPrChange w:id=\"4\"><w:rPr><w:highlight w:val=\"red\"/></w:rPr></w:rPrChange></w:rPr><w:t></w:t></w:r>",
        "</w:p></w:tc>"
    );
    let grid = read(&tbl(&[format!("<w:tr>{cell}</w:tr>")]));
    assert_eq!(grid.rows[0].cells[0].text, "New target (see guidance).");
    assert_eq!(grid.rows[0].cells[0].fill, None);
}

#[test]
fn entities_are_decoded() {
    let grid = read(&tbl(&[tr(&[
        "Police &amp; Health&#8217;s &lt;plan&gt; &#x2013; &quot;Q1&quot;",
    ])]));
    assert_eq!(
        grid.rows[0].cells[0].text,
        "Police & Health\u{2019}s <plan> \u{2013} \"Q1\""
    );
}

#[test]
fn a_nested_table_becomes_text_of_its_cell() {
    let inner = tbl(&[tr(&["Q1", "Done"]), tr(&["", ""]), tr(&["Q2", "Due"])]);
    let cell = format!("<w:tc>{}{inner}{}</w:tc>", p("Milestones:"), p("End"));
    let grid = read(&tbl(&[format!("<w:tr>{}{cell}</w:tr>", tc("1.1"))]));
    assert_eq!(grid.rows.len(), 1);
    assert_eq!(grid.description, "Word document, 1 table");
    assert_eq!(
        texts(&grid.rows[0]),
        vec!["1.1", "Milestones:\nQ1 | Done\nQ2 | Due\nEnd"]
    );
}

fn shaded(tc_pr: &str, runs: &str) -> Option<Rgb> {
    let cell = format!("<w:tc><w:tcPr>{tc_pr}</w:tcPr><w:p>{runs}</w:p></w:tc>");
    let theme = r#"<?xml version="1.0"?><a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office"><a:themeElements><a:clrScheme name="Office"><a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1><a:dk2><a:srgbClr val="44546A"/></a:dk2><a:lt2><a:srgbClr val="E7E6E6"/></a:lt2><a:accent1><a:srgbClr val="4472C4"/></a:accent1><a:accent2><a:srgbClr val="ED7D31"/></a:accent2><a:accent3><a:srgbClr val="A5A5A5"/></a:accent3><a:accent4><a:srgbClr val="FFC000"/></a:accent4><a:accent5><a:srgbClr val="5B9BD5"/></a:accent5><a:accent6><a:srgbClr val="70AD47"/></a:accent6><a:hlink><a:srgbClr val="0563C1"/></a:hlink><a:folHlink><a:srgbClr val="954F72"/></a:folHlink></a:clrScheme><a:fontScheme name="x"/></a:themeElements><a:extraClrSchemeLst><a:extraClrScheme><a:clrScheme name="Other"><a:accent6><a:srgbClr val="123456"/></a:accent6></a:clrScheme></a:extraClrScheme></a:extraClrSchemeLst></a:theme>"#;
    let bytes = package(&[
        (
            "word/document.xml",
            &document(&tbl(&[format!("<w:tr>{cell}</w:tr>")])),
        ),
        ("word/theme/theme1.xml", theme),
    ]);
    read_docx(&bytes).unwrap().rows[0].cells[0].fill
}

#[test]
fn cell_colours_come_from_shading_theme_and_highlight() {
    let run = "<w:r><w:t>Amber</w:t></w:r>";
    assert_eq!(
        shaded(
            r#"<w:shd w:val="clear" w:color="auto" w:fill="FFC000"/>"#,
            run
        ),
        Some(Rgb(0xFF, 0xC0, 0))
    );
    assert_eq!(
        shaded(
            r#"<w:shd w:val="clear" w:color="auto" w:fill="auto"/>"#,
            run
        ),
        None
    );
    assert_eq!(shaded("", run), None);
    // Word saves the resolved hex beside the theme colour; the theme wins.
    assert_eq!(
        shaded(
            r#"<w:shd w:val="clear" w:color="auto" w:fill="FFFFFF" w:themeFill="accent6"/>"#,
            run
        ),
        Some(Rgb(0x70, 0xAD, 0x47))
    );
    // "Lighter 60%" of accent6: the hex beside it is what Word itself computed.
    assert_eq!(
        shaded(
            r#"<w:shd w:val="clear" w:fill="C5E0B3" w:themeFill="accent6" w:themeFillTint="66"/>"#,
            run
        ),
        Some(Rgb(0xC5, 0xE0, 0xB3))
    );
    // A 75% shade (0xBF) of background1: white times 0xBF/255.
    assert_eq!(
        shaded(
            r#"<w:shd w:val="clear" w:fill="BFBFBF" w:themeFill="background1" w:themeFillShade="BF"/>"#,
            run
        ),
        Some(Rgb(0xBF, 0xBF, 0xBF))
    );
    assert_eq!(
        shaded(
            r#"<w:shd w:val="solid" w:color="FF0000" w:fill="auto"/>"#,
            run
        ),
        Some(Rgb(0xFF, 0, 0))
    );
    assert_eq!(shaded(r#"<w:shd w:val="nil"/>"#, run), None);
    let red = r#"<w:r><w:rPr><w:highlight w:val="red"/></w:rPr><w:t>Red</w:t></w:r>"#;
    let red_too = r#"<w:r><w:rPr><w:b/><w:highlight w:val="red"/></w:rPr><w:t> – overdue</w:t></w:r><w:r><w:t xml:space="preserve">  </w:t></w:r>"#;
    assert_eq!(
        shaded("", &format!("{red}{red_too}")),
        Some(Rgb(0xFF, 0, 0))
    );
    assert_eq!(
        shaded("", &format!("{red}{run}")),
        None,
        "mixed highlight is no colour"
    );
    let green_run =
        r#"<w:r><w:rPr><w:shd w:val="clear" w:fill="00B050"/></w:rPr><w:t>Green</w:t></w:r>"#;
    assert_eq!(shaded("", green_run), Some(Rgb(0, 0xB0, 0x50)));
    let paragraph_shading = r#"<w:pPr><w:shd w:val="clear" w:fill="FFFF00"/><w:rPr><w:highlight w:val="red"/></w:rPr></w:pPr><w:r><w:t>Amber</w:t></w:r>"#;
    assert_eq!(shaded("", paragraph_shading), Some(Rgb(0xFF, 0xFF, 0)));
    // The cell's own shading wins over what its runs show.
    assert_eq!(
        shaded(r#"<w:shd w:val="clear" w:fill="00B050"/>"#, red),
        Some(Rgb(0, 0xB0, 0x50))
    );
}

#[test]
fn tints_and_shades_match_the_hex_word_saves() {
    let hex = |text: &str| Rgb::from_hex(text).unwrap();
    let cases = [
        ("70AD47", Some(0x99), None, "A8D08D"), // Green, Accent 6, Lighter 40%
        ("70AD47", Some(0x66), None, "C5E0B3"), // Lighter 60%
        ("4472C4", Some(0x33), None, "D9E2F3"), // Blue, Accent 1, Lighter 80%
        ("4472C4", None, Some(0x80), "1F3864"), // Darker 50%
        ("FFFFFF", None, Some(0xBF), "BFBFBF"), // White, Background 1, Darker 25%
        ("FFFFFF", None, Some(0xD9), "D9D9D9"), // Darker 15%
        ("000000", Some(0x80), None, "7F7F7F"), // Black, Text 1, Lighter 50%
        ("FFC000", None, None, "FFC000"),
    ];
    for (base, tint, shade, word) in cases {
        assert_eq!(
            tint_and_shade(hex(base), tint, shade),
            hex(word),
            "{base} {tint:?} {shade:?}"
        );
    }
}

#[test]
fn highlighted_spaces_colour_a_blank_cell() {
    let spaces = r#"<w:r><w:rPr><w:highlight w:val="yellow"/></w:rPr><w:t xml:space="preserve">   </w:t></w:r>"#;
    let plain_space = r#"<w:r><w:t xml:space="preserve"> </w:t></w:r>"#;
    let cell = format!("<w:tc><w:p>{spaces}{plain_space}</w:p></w:tc>");
    let grid = read(&tbl(&[format!("<w:tr>{cell}</w:tr>")]));
    assert_eq!(grid.rows[0].cells[0].text, "");
    assert_eq!(grid.rows[0].cells[0].fill, Some(Rgb(0xFF, 0xFF, 0)));
}

#[test]
fn the_word_fixtures_read_as_word_shows_them() {
    let grid = read_docx(include_bytes!(
        "../../../tests/fixtures/import/word-two-tables-theme-shading.docx"
    ))
    .unwrap();
    assert_eq!(grid.description, "Word document, 2 tables");
    assert!(grid.notes.is_empty(), "{:?}", grid.notes);
    let row = |table: usize, row: usize| grid.rows.iter().find(|r| r.at == at(table, row)).unwrap();
    let rag = |table: usize, r: usize| row(table, r).cells[4].fill.map(|fill| fill.to_string());
    assert_eq!(
        texts(&grid.rows[0]),
        vec!["MSCB priority safeguarding objectives 2014 – 2017 Action and Improvement Plan"]
    );
    assert_eq!(row(1, 2).cells[0].span, 6);
    assert_eq!(rag(1, 3).as_deref(), Some("#A8D08D"));
    assert_eq!(rag(1, 4).as_deref(), Some("#FFC000"));
    assert_eq!(
        rag(1, 5).as_deref(),
        Some("#A8D08D"),
        "theme only, computed as Word would"
    );
    assert_eq!(rag(1, 6).as_deref(), Some("#FFFF00"), "highlighted spaces");
    assert!(row(1, 5).cells[2].covered);
    assert_eq!(
        row(1, 5).cells[2].text,
        "MSCB PMQA Subgroup\nCase File Audit Group"
    );
    let priority = grid.rows.iter().find(|r| r.at == at(2, 0)).unwrap();
    assert_eq!(
        texts(priority),
        vec!["Priority 2: Improve the voice of the child"]
    );
    assert_eq!(rag(2, 5).as_deref(), Some("#FF0000"));

    let grid = read_docx(include_bytes!(
        "../../../tests/fixtures/import/word-merged-priorities.docx"
    ))
    .unwrap();
    assert_eq!(grid.description, "Word document, 1 table");
    assert_eq!(grid.rows.iter().filter(|r| r.at.row == 0).count(), 2);
    assert_eq!(grid.rows.iter().filter(|r| r.at.row > 0).count(), 17);
    assert!(grid
        .rows
        .iter()
        .all(|r| r.cells.len() == 6 || r.at.row == 0));

    let truncated = include_bytes!("../../../tests/fixtures/import/truncated.docx");
    assert!(
        error(truncated).contains("damaged or incomplete"),
        "{}",
        error(truncated)
    );
    let legacy = include_bytes!("../../../tests/fixtures/import/legacy.doc");
    assert!(error(legacy).contains("older Word .doc"));
}

#[test]
fn theme_fill_without_a_theme_falls_back_to_the_saved_hex() {
    let cell = r#"<w:tc><w:tcPr><w:shd w:val="clear" w:fill="70AD47" w:themeFill="accent6"/></w:tcPr><w:p/></w:tc>"#;
    let grid = read(&tbl(&[format!("<w:tr>{cell}</w:tr>")]));
    assert_eq!(grid.rows[0].cells[0].fill, Some(Rgb(0x70, 0xAD, 0x47)));
    assert_eq!(grid.rows[0].cells[0].text, "");
}

#[test]
fn rows_that_skip_grid_columns_get_empty_cells() {
    let row = format!(
        r#"<w:tr><w:trPr><w:gridBefore w:val="2"/><w:gridAfter w:val="1"/></w:trPr>{}</w:tr>"#,
        tc("Only")
    );
    let grid = read(&tbl(&[tr(&["a", "b", "c", "d"]), row]));
    assert_eq!(texts(&grid.rows[1]), vec!["", "", "Only", ""]);
    assert!(grid.rows[1]
        .cells
        .iter()
        .all(|cell| !cell.covered && cell.span == 1));
}

#[test]
fn legacy_horizontal_merges_widen_the_first_cell() {
    let row = r#"<w:tr><w:tc><w:tcPr><w:hMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>Wide</w:t></w:r></w:p></w:tc><w:tc><w:tcPr><w:hMerge/></w:tcPr><w:p/></w:tc></w:tr>"#;
    let grid = read(&tbl(&[row.to_string()]));
    assert_eq!(grid.rows[0].cells[0].span, 2);
    assert!(grid.rows[0].cells[1].covered);
}

#[test]
fn empty_rows_and_cells_are_kept() {
    let grid = read(&tbl(&[
        tr(&["a", "b"]),
        "<w:tr><w:tc/><w:tc><w:p/></w:tc></w:tr>".to_string(),
        tr(&["c", "d"]),
    ]));
    assert_eq!(grid.rows.len(), 3);
    assert!(grid.rows[1].is_blank());
    assert_eq!(grid.rows[1].cells.len(), 2);
    assert_eq!(grid.rows[2].at, at(1, 3));
}

#[test]
fn drawings_are_not_read_twice_and_are_noted() {
    let drawing = concat!(
        "<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wps:txbx xmlns:wps=\"x\">",
        "<w:txbxContent><w:p><w:r><w:t>Box text</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice>",
        "<mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Box text</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback>",
        "</mc:AlternateContent></w:r><w:r><w:t>Title</w:t></w:r></w:p>"
    );
    let grid = read(&format!("{drawing}{}", tbl(&[tr(&["a"])])));
    assert_eq!(texts(&grid.rows[0]), vec!["Title"]);
    assert_eq!(grid.notes, vec!["1 text box or drawing holds text that was not read; if it matters, move its text into the table."]);
}

#[test]
fn only_the_last_200_paragraphs_before_a_table_are_kept() {
    let paragraphs: String = (1..=205).map(|n| p(&format!("Para {n}"))).collect();
    let grid = read(&format!("{paragraphs}{}", tbl(&[tr(&["a"])])));
    assert_eq!(grid.rows.len(), 201);
    assert_eq!(texts(&grid.rows[0]), vec!["Para 6"]);
    assert_eq!(texts(&grid.rows[199]), vec!["Para 205"]);
    assert_eq!(
        grid.notes,
        vec![
            "5 paragraphs before table 1 were not read; only the last 200 before a table are kept."
        ]
    );
}

const NUMBERING: &str = r#"<?xml version="1.0"?><w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
    <w:abstractNum w:abstractNumId="0"><w:multiLevelType w:val="multilevel"/>
      <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/><w:pPr><w:ind w:left="360"/></w:pPr></w:lvl>
      <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>
      <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/></w:lvl>
    </w:abstractNum>
    <w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val=""/></w:lvl></w:abstractNum>
    <w:abstractNum w:abstractNumId="2"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1)"/></w:lvl></w:abstractNum>
    <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
    <w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
    <w:num w:numId="3"><w:abstractNumId w:val="2"/></w:num>
    <w:num w:numId="4"><w:abstractNumId w:val="2"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="7"/></w:lvlOverride></w:num>
    <w:num w:numId="5"><w:abstractNumId w:val="0"/></w:num>
  </w:numbering>"#;

const STYLES: &str = r#"<?xml version="1.0"?><w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
    <w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
    <w:style w:type="paragraph" w:styleId="Heading1"><w:basedOn w:val="Normal"/><w:pPr><w:numPr><w:numId w:val="3"/></w:numPr></w:pPr></w:style>
    <w:style w:type="paragraph" w:styleId="MyHeading"><w:basedOn w:val="Heading1"/></w:style>
  </w:styles>"#;

fn numbered(num_id: u32, ilvl: u32, text: &str) -> String {
    format!(
        r#"<w:p><w:pPr><w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
    )
}

fn styled(style: &str, text: &str) -> String {
    format!(r#"<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#)
}

#[test]
fn list_numbers_are_put_back_in_front_of_their_text() {
    let cell = [
        numbered(1, 1, "Develop the audit"),
        numbered(1, 2, "with health"),
        numbered(1, 2, "with police"),
        numbered(1, 1, "Report"),
        numbered(2, 0, "A bullet"),
        numbered(1, 0, ""),
    ]
    .concat();
    let body = [
        numbered(1, 0, "Priority: Early help"),
        tbl(&[format!("<w:tr><w:tc>{cell}</w:tc></w:tr>")]),
        numbered(5, 0, "Priority: Neglect (shares the list)"),
        numbered(5, 1, "Train staff"),
        styled("Heading1", "Roman heading"),
        styled("MyHeading", "Based on heading"),
        numbered(4, 0, "Restarted at seven"),
        numbered(4, 0, "Eight"),
        styled("Heading1", "Back to its own count"),
        tbl(&[tr(&["x"])]),
    ]
    .concat();
    let bytes = package(&[
        ("word/document.xml", &document(&body)),
        ("word/numbering.xml", NUMBERING),
        ("word/styles.xml", STYLES),
    ]);
    let grid = read_docx(&bytes).unwrap();
    let texts: Vec<&str> = grid
        .rows
        .iter()
        .flat_map(|row| row.cells.iter().map(|c| c.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        vec![
            "1. Priority: Early help",
            "1.1 Develop the audit\n(a) with health\n(b) with police\n1.2 Report\nA bullet",
            // The empty item counted as 2., so the list goes on at 3.
            "3. Priority: Neglect (shares the list)",
            "3.1 Train staff",
            "I) Roman heading",
            "II) Based on heading",
            "VII) Restarted at seven",
            "VIII) Eight",
            "III) Back to its own count",
            "x",
        ]
    );
}

#[test]
fn list_number_formats() {
    assert_eq!(format_list_number(1, "lowerLetter"), "a");
    assert_eq!(format_list_number(27, "upperLetter"), "AA");
    assert_eq!(format_list_number(1994, "upperRoman"), "MCMXCIV");
    assert_eq!(format_list_number(4, "lowerRoman"), "iv");
    assert_eq!(format_list_number(3, "decimalZero"), "03");
    assert_eq!(format_list_number(0, "lowerLetter"), "0");
    assert_eq!(format_list_number(12, "ordinalText"), "12");
}

#[test]
fn a_thousand_row_table_reads_quickly() {
    let rows: Vec<String> = (1..=1000)
        .map(|n| {
            tr(&[
                &format!("{n}"),
                "Audit the referral pathway with partners",
                "Head of Service",
                "March 2025",
                "Green",
            ])
        })
        .collect();
    let bytes = docx(&tbl(&rows));
    let started = std::time::Instant::now();
    let grid = read_docx(&bytes).unwrap();
    let took = started.elapsed();
    assert_eq!(grid.rows.len(), 1000);
    assert_eq!(grid.rows[999].at, at(1, 1000));
    // Well under 100 ms in a release build; the bound is loose for debug builds.
    assert!(took.as_millis() < 1000, "took {took:?}");
}

fn error(bytes: &[u8]) -> String {
    read_docx(bytes).unwrap_err().message
}

#[test]
fn files_that_are_not_word_documents_are_refused_helpfully() {
    assert!(error(b"Ref,Action\n1,Audit\n").contains("not a zip package"));
    assert!(error(b"").contains("not a zip package"));
    let ole = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
    assert!(error(&ole).contains("older Word .doc"));
    let no_document = package(&[("word/styles.xml", STYLES)]);
    assert!(error(&no_document).contains("without word/document.xml"));
    let workbook = package(&[("xl/workbook.xml", "<workbook/>")]);
    assert!(error(&workbook).contains("Excel workbook"));
}

#[test]
fn damaged_xml_is_refused_with_what_to_do() {
    let unclosed = package(&[(
        "word/document.xml",
        "<w:document><w:body><w:tbl><w:tr></w:tbl></w:body></w:document>",
    )]);
    let message = error(&unclosed);
    assert!(
        message.starts_with("the Word document is damaged (word/document.xml: "),
        "{message}"
    );
    assert!(message.ends_with("open it in Word, save it again as .docx and import again"));
    let truncated = package(&[("word/document.xml", "<w:document><w:body><w:tbl><w:tr>")]);
    assert!(error(&truncated).contains("damaged"));
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("word/document.xml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"<w:document>\xC3\x28</w:document>").unwrap();
    let not_utf8 = zip.finish().unwrap().into_inner();
    assert!(
        error(&not_utf8).contains("invalid utf-8"),
        "{}",
        error(&not_utf8)
    );
    let bad_theme = package(&[
        ("word/document.xml", &document(&tbl(&[tr(&["a"])]))),
        ("word/theme/theme1.xml", "<a:theme><a:clrScheme></a:theme>"),
    ]);
    assert!(error(&bad_theme).contains("word/theme/theme1.xml"));
}

#[test]
fn a_document_without_tables_says_how_to_make_one() {
    let message = error(&docx(&p("Just a letter")));
    assert!(message.starts_with(
        "the Word document has no tables; a plan is read from its tables (one row per action)"
    ));
}

#[test]
fn parts_that_unpack_too_far_are_refused() {
    let bytes = package(&[("word/document.xml", &document(&"<w:p/>".repeat(2000)))]);
    let mut archive = open_package(&bytes).unwrap();
    let message = read_part_within(&mut archive, "word/document.xml", 1024)
        .unwrap_err()
        .message;
    assert!(message.contains("unpacks to more than"), "{message}");
    assert!(read_part_within(&mut archive, "word/document.xml", 1 << 20)
        .unwrap()
        .is_some());
}

#[test]
fn absurd_merges_are_refused_not_followed() {
    let wide = r#"<w:tr><w:tc><w:tcPr><w:gridSpan w:val="18446744073709551615"/></w:tcPr><w:p/></w:tc></w:tr>"#;
    assert!(
        error(&docx(&tbl(&[wide.to_string()]))).contains("table 1 row 1 has more than 1000 cells")
    );
    let before = r#"<w:tr><w:trPr><w:gridBefore w:val="5000000"/></w:trPr></w:tr>"#;
    assert!(error(&docx(&tbl(&[before.to_string()]))).contains("more than 1000 cells"));
    let nonsense = r#"<w:tr><w:tc><w:tcPr><w:gridSpan w:val="-2"/></w:tcPr><w:p/></w:tc></w:tr>"#;
    assert_eq!(read(&tbl(&[nonsense.to_string()])).rows[0].cells.len(), 1);
}

#[test]
fn utf16_parts_are_read() {
    let xml = document(&tbl(&[tr(&["Café"])]));
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("word/document.xml", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(&bytes).unwrap();
    let package = zip.finish().unwrap().into_inner();
    assert_eq!(read_docx(&package).unwrap().rows[0].cells[0].text, "Café");
}

fn sample() -> Vec<u8> {
    let merged = r#"<w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr><w:tc><w:tcPr><w:gridSpan w:val="2"/><w:vMerge w:val="restart"/><w:shd w:val="clear" w:fill="FF0000" w:themeFill="accent2" w:themeFillTint="99"/></w:tcPr><w:p><w:r><w:rPr><w:highlight w:val="yellow"/></w:rPr><w:t>Merged &amp; shaded</w:t></w:r></w:p></w:tc></w:tr>"#;
    let body = [
        p("Title"),
        tbl(&[
            tr(&["a", "b", "c"]),
            merged.to_string(),
            tr(&["x", "y", "z"]),
        ]),
        numbered(1, 0, "Priority"),
        tbl(&[tr(&["d"])]),
    ]
    .concat();
    package(&[
        ("word/document.xml", &document(&body)),
        ("word/numbering.xml", NUMBERING),
        ("word/styles.xml", STYLES),
    ])
}

#[test]
fn truncated_or_corrupted_files_never_panic() {
    let bytes = sample();
    assert_eq!(read_docx(&bytes).unwrap().rows.len(), 6);
    for length in 0..bytes.len() {
        let _ = read_docx(&bytes[..length]);
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..3000 {
        // A small xorshift keeps the flips reproducible without a dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut flipped = bytes.clone();
        let index = (state % flipped.len() as u64) as usize;
        flipped[index] ^= 1 << (state >> 61);
        let _ = read_docx(&flipped);
    }
}

#[test]
fn truncated_document_xml_never_panics() {
    let xml = document(
        &[
            p("Title"),
            tbl(&[tr(&["a", "b"]), tr(&["Police &amp; health", "c"])]),
        ]
        .concat(),
    );
    for length in (0..xml.len()).filter(|&length| xml.is_char_boundary(length)) {
        let bytes = package(&[("word/document.xml", &xml[..length])]);
        assert!(
            read_docx(&bytes).is_err(),
            "a document cut at byte {length} was read"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    #[test]
    fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
        let _ = read_docx(&bytes);
    }

    #[test]
    fn any_document_text_is_read_or_refused(xml in "(<w:(tbl|tr|tc|p|r|t|tcPr|gridSpan w:val=\"[0-9]{1,3}\"/|vMerge/|br/|tab/)>|</w:(tbl|tr|tc|p|r|t|tcPr)>|[a-z &;#0-9]{0,5}){0,40}") {
        let bytes = package(&[("word/document.xml", &document(&xml))]);
        let _ = read_docx(&bytes);
    }
}
