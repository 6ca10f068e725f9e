//! `assure import` of real-sized plans, whole CLI call (the release binary): a
//! 10,000-action Excel workbook and a 1,000-action Word document, laid out as boards
//! lay them out (a title block, priority rows merged across, RAG shown only as a
//! fill or shading). The files are written here, not committed. Each call's peak
//! resident memory is printed too. Figures go in `benches/README.md`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

const ACTIONS_PER_PRIORITY: usize = 100;

fn zip(parts: &[(&str, String)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in parts {
        writer.start_file(*name, options).expect("zip entry");
        writer.write_all(text.as_bytes()).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

/// The text of action `i`, long enough to be like a real plan's.
fn action_text(i: usize) -> String {
    format!("Develop and embed a multi-agency approach to safeguarding adolescents at risk of exploitation, step {i}, with a quarterly report to the Board")
}

/// A workbook with a title block, a header, a priority row merged across every
/// 100 actions, and each action's RAG shown only as the fill of an empty cell.
fn xlsx(actions: usize) -> Vec<u8> {
    let mut rows = String::new();
    let mut merges = Vec::new();
    let text = |col: &str, r: usize, t: &str| {
        format!(
            "<c r=\"{col}{r}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
            escape(t)
        )
    };
    let push = |rows: &mut String, r: usize, cells: String| {
        rows.push_str(&format!("<row r=\"{r}\">{cells}</row>"));
    };
    push(
        &mut rows,
        1,
        text("A", 1, "Community Safety Partnership Action Plan 2024-25"),
    );
    let header = [
        "Ref",
        "Action",
        "Lead",
        "Timescale",
        "Outcome measure",
        "Output",
        "RAG",
        "Progress",
    ];
    let cells: String = header
        .iter()
        .zip(["A", "B", "C", "D", "E", "F", "G", "H"])
        .map(|(h, c)| text(c, 2, h))
        .collect();
    push(&mut rows, 2, cells);
    let mut r = 2;
    for i in 0..actions {
        let priority = i / ACTIONS_PER_PRIORITY + 1;
        if i % ACTIONS_PER_PRIORITY == 0 {
            r += 1;
            let heading =
                format!("Priority {priority}: Reduce serious violence in area {priority}");
            push(&mut rows, r, text("A", r, &heading));
            merges.push(format!("<mergeCell ref=\"A{r}:H{r}\"/>"));
        }
        r += 1;
        let reference = format!("{priority}.{}", i % ACTIONS_PER_PRIORITY + 1);
        let cells = [
            text("A", r, &reference),
            text("B", r, &action_text(i)),
            text(
                "C",
                r,
                "Community Safety Partnership\nGreater Manchester Police",
            ),
            text("D", r, "March 2025"),
            text("E", r, "Fewer children are harmed; audit shows improvement"),
            text("F", r, "Quarterly report"),
            format!("<c r=\"G{r}\" s=\"{}\"/>", i % 3 + 1),
            text("H", r, "Work is under way with every partner agency"),
        ]
        .concat();
        push(&mut rows, r, cells);
    }
    let sheet = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>{rows}</sheetData><mergeCells count=\"{}\">{}</mergeCells></worksheet>",
        merges.len(),
        merges.concat()
    );
    let fill = |rgb: &str| {
        format!("<fill><patternFill patternType=\"solid\"><fgColor rgb=\"FF{rgb}\"/></patternFill></fill>")
    };
    let styles = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><fonts count=\"1\"><font/></fonts><fills count=\"5\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill>{}{}{}</fills><borders count=\"1\"><border/></borders><cellStyleXfs count=\"1\"><xf/></cellStyleXfs><cellXfs count=\"4\"><xf/><xf fillId=\"2\" applyFill=\"1\"/><xf fillId=\"3\" applyFill=\"1\"/><xf fillId=\"4\" applyFill=\"1\"/></cellXfs></styleSheet>",
        fill("00B050"), fill("FFC000"), fill("FF0000")
    );
    zip(&[
        ("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/><Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/></Types>".into()),
        ("_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>".into()),
        ("xl/workbook.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"Action plan\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>".into()),
        ("xl/_rels/workbook.xml.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>".into()),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/styles.xml", styles),
    ])
}

/// A Word document: a title paragraph and one table with a header, a priority row
/// merged across every 100 actions, lead cells of two paragraphs (the second a
/// date), and each action's RAG only as the shading of an empty cell.
fn docx(actions: usize) -> Vec<u8> {
    let cell = |paragraphs: &[&str], extra: &str| {
        let body: String = paragraphs
            .iter()
            .map(|p| {
                format!(
                    "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                    escape(p)
                )
            })
            .collect();
        format!("<w:tc><w:tcPr>{extra}</w:tcPr>{body}</w:tc>")
    };
    let mut table = String::from("<w:tbl><w:tblGrid>");
    table.push_str(&"<w:gridCol w:w=\"1500\"/>".repeat(6));
    table.push_str("</w:tblGrid>");
    let header = [
        "Ref",
        "Action",
        "Lead Agency/Officer and Timescale",
        "Outcome measure",
        "Progress & Evidence",
        "RAG",
    ];
    table.push_str("<w:tr>");
    for h in header {
        table.push_str(&cell(&[h], ""));
    }
    table.push_str("</w:tr>");
    let shades = ["00B050", "FFC000", "FF0000"];
    for i in 0..actions {
        let priority = i / ACTIONS_PER_PRIORITY + 1;
        if i % ACTIONS_PER_PRIORITY == 0 {
            let heading =
                format!("{priority}. Priority: Reduce serious violence in area {priority}");
            table.push_str(&format!(
                "<w:tr>{}</w:tr>",
                cell(&[&heading], "<w:gridSpan w:val=\"6\"/>")
            ));
        }
        let reference = format!("{priority}.{}", i % ACTIONS_PER_PRIORITY + 1);
        table.push_str("<w:tr>");
        table.push_str(&cell(&[&reference], ""));
        table.push_str(&cell(&[&action_text(i)], ""));
        table.push_str(&cell(
            &["Sam Stabler – CSP via Serious Violence Board", "May 2024"],
            "",
        ));
        table.push_str(&cell(
            &["Fewer children are harmed; audit shows improvement"],
            "",
        ));
        table.push_str(&cell(&["Work is under way with every partner agency"], ""));
        let shade = format!(
            "<w:shd w:val=\"clear\" w:color=\"auto\" w:fill=\"{}\"/>",
            shades[i % 3]
        );
        table.push_str(&cell(&[""], &shade));
        table.push_str("</w:tr>");
    }
    table.push_str("</w:tbl>");
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>Serious Violence Action Plan 2024-25</w:t></w:r></w:p>{table}<w:p/></w:body></w:document>"
    );
    zip(&[
        ("[Content_Types].xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>".into()),
        ("_rels/.rels", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>".into()),
        ("word/document.xml", document),
    ])
}

/// Runs the CLI to completion, returning its peak resident memory (VmHWM, read
/// from /proc while it runs) in MiB.
fn run(binary: &Path, args: &[&str]) -> f64 {
    let mut child = Command::new(binary)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run assure");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak_kib = peak_kib.max(kib);
            }
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let output = child.wait_with_output().expect("output");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    peak_kib as f64 / 1024.0
}

fn import(c: &mut Criterion) {
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/assure");
    if !binary.is_file() {
        eprintln!("skipping: build target/release/assure first (cargo build --release)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let data_arg = data.to_str().expect("utf-8 path").to_owned();
    run(&binary, &["--data", &data_arg, "init"]);
    let files: [(&str, PathBuf, Vec<u8>); 2] = [
        (
            "1,000-action .docx",
            dir.path().join("plan.docx"),
            docx(1_000),
        ),
        (
            "10,000-action .xlsx",
            dir.path().join("plan.xlsx"),
            xlsx(10_000),
        ),
    ];
    let mut group = c.benchmark_group("import, whole CLI call");
    group.sample_size(10);
    for (name, path, bytes) in &files {
        std::fs::write(path, bytes).expect("write plan file");
        let file = path.to_str().expect("utf-8 path").to_owned();
        let mut n = 0;
        let mut peak: f64 = 0.0;
        group.bench_function(*name, |b| {
            b.iter_custom(|iterations| {
                let start = Instant::now();
                for _ in 0..iterations {
                    n += 1;
                    let plan = format!(
                        "plan-{}-{n}",
                        path.extension().and_then(|e| e.to_str()).unwrap_or("x")
                    );
                    let args = [
                        "--data",
                        &data_arg,
                        "import",
                        &file,
                        "--plan",
                        &plan,
                        "--effective",
                        "2024-04-01",
                    ];
                    peak = peak.max(run(&binary, &args));
                }
                start.elapsed()
            })
        });
        eprintln!(
            "{name}: {} bytes, peak resident memory of one import {peak:.0} MiB",
            bytes.len()
        );
    }
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
