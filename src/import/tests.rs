//! Tests of reading plans, through `read_plan` as a caller sees it.

#![allow(clippy::unwrap_used)]

use super::*;

/// Reads a file from the shared fixtures: `$ASSURE_SHARED/fixtures/NAME`, or
/// `../shared/fixtures/NAME` beside the workspace when the variable is unset.
fn fixture(name: &str) -> Vec<u8> {
    let shared = std::env::var("ASSURE_SHARED")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared").to_owned());
    let path = std::path::Path::new(&shared).join("fixtures").join(name);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "fixture {} cannot be read ({error}); the tests need the shared folder beside \
             the workspace, or ASSURE_SHARED set to it",
            path.display()
        )
    })
}

fn parse_bytes(bytes: &[u8]) -> Result<ImportedPlan, ImportError> {
    read_plan("plan.csv", bytes, &ImportOptions::default())
}

fn parse(csv: &str) -> Result<ImportedPlan, ImportError> {
    parse_bytes(csv.as_bytes())
}

/// An action with the given row, ref and title, and everything else empty.
fn action(row: usize, reference: &str, title: &str) -> ImportedAction {
    ImportedAction {
        at: RowAt { table: None, row },
        reference: reference.into(),
        priority_key: reference.split('.').next().unwrap().into(),
        title: title.into(),
        impact: String::new(),
        outcome: String::new(),
        leads: Vec::new(),
        lead_agencies: Vec::new(),
        due_raw: String::new(),
        milestones: Vec::new(),
        status: None,
        progress: String::new(),
        cross_refs: Vec::new(),
        extras: Vec::new(),
    }
}

fn where_(error: &ImportError) -> (Option<usize>, Option<usize>) {
    let column = error
        .column
        .as_ref()
        .map(|c| c.split(' ').next().unwrap().parse::<usize>().unwrap());
    (error.at.map(|at| at.row), column)
}

fn columns_of(headers: &[&str]) -> Vec<ColumnMapping> {
    let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    columns::map_columns(&headers, &[], &[], false).unwrap()
}

fn field_of(headers: &[&str], column: usize) -> Option<Field> {
    columns_of(headers).get(column).unwrap().field()
}

#[test]
fn real_headers_map_to_these_fields() {
    let table: &[(&str, Option<Field>)] = &[
        ("ref", Some(Field::Ref)),
        ("Ref No.", Some(Field::Ref)),
        ("Action ref", Some(Field::Ref)),
        ("priority", Some(Field::Priority)),
        // Alone, the words plans use for the action column name it.
        ("Objective", Some(Field::Action)),
        ("Area for improvement", Some(Field::Priority)),
        ("action", Some(Field::Action)),
        ("Specific action", Some(Field::Action)),
        ("What needs to improve/ACTION", Some(Field::Action)),
        ("  SPECIFIC   ACTION ", Some(Field::Action)),
        ("impact", Some(Field::Impact)),
        (
            "What will the impact be and how will we know",
            Some(Field::Impact),
        ),
        ("What difference will it make…", Some(Field::Impact)),
        (
            "What difference will it make for children and young people?",
            Some(Field::Impact),
        ),
        ("outcome", Some(Field::Outcome)),
        ("Critical Success Factor", Some(Field::Action)),
        ("Outcome Measure", Some(Field::Outcome)),
        ("Success indicators", Some(Field::Outcome)),
        ("lead", Some(Field::Lead)),
        ("Who Responsible", Some(Field::Lead)),
        ("Who Responsible / linked plan", Some(Field::Lead)),
        ("Lead Agency/Officer", Some(Field::Lead)),
        ("Action owner", Some(Field::Lead)),
        ("due", Some(Field::Due)),
        ("Date for completion", Some(Field::Due)),
        ("Timescale", Some(Field::Due)),
        ("Target date", Some(Field::Due)),
        ("status", Some(Field::Status)),
        ("RAG", Some(Field::Status)),
        ("Risk RAG rating", Some(Field::Status)),
        ("progress", Some(Field::Progress)),
        ("Evidence of progress", Some(Field::Progress)),
        ("Progress & Evidence", Some(Field::Progress)),
        ("cross_refs", Some(Field::CrossRefs)),
        ("Cross refs", Some(Field::CrossRefs)),
        ("Cross reference", Some(Field::CrossRefs)),
        ("Notes for the chair", None),
        ("", None),
    ];
    for (header, expected) in table {
        assert_eq!(
            field_of(&[header, "Notes"], 0),
            *expected,
            "header {header:?}"
        );
    }
    // Beside a column headed as the action, they read as the priority and outcome.
    assert_eq!(
        field_of(&["Objective", "Specific action"], 0),
        Some(Field::Priority)
    );
    assert_eq!(
        field_of(&["Critical Success Factor", "Action"], 0),
        Some(Field::Outcome)
    );
}

#[test]
fn a_progress_rag_column_is_the_status_only_when_no_other_column_is() {
    let alone = ["Specific action", "Progress & Evidence RAG"];
    assert_eq!(field_of(&alone, 1), Some(Field::Status));
    let beside_status = ["Specific action", "Progress & Evidence RAG", "RAG"];
    assert_eq!(field_of(&beside_status, 1), Some(Field::Progress));
    assert_eq!(field_of(&beside_status, 2), Some(Field::Status));
}

#[test]
fn a_second_column_for_a_taken_field_is_kept_and_reported() {
    let described: Vec<String> =
        columns_of(&["Who Responsible", "Lead Agency/Officer", "Action", "Notes"])
            .iter()
            .map(ColumnMapping::describe)
            .collect();
    assert_eq!(
        described,
        [
            "column 1 \"Who Responsible\" → keep (it also reads as lead, which another column has: kept as an extra field)",
            "column 2 \"Lead Agency/Officer\" → lead (its header)",
            "column 3 \"Action\" → action (its header)",
            "column 4 \"Notes\" → keep (no field matches: kept as an extra field)",
        ]
    );
    // Equal scores: the leftmost column wins.
    assert_eq!(
        field_of(&["Status", "RAG", "action"], 0),
        Some(Field::Status)
    );
    assert_eq!(field_of(&["Status", "RAG", "action"], 1), None);
}

#[test]
fn every_canonical_column_is_read() {
    let csv = "ref,priority,action,impact,outcome,lead,due,status,progress,cross_refs\n\
               1.1,Listen to children,Run a survey,Voices heard,Survey done,\"A; B\",May 2024,Green,Draft out,\"1.2, 2.1\"\n\
               1.2,,Act on it,,,,Ongoing,in progress,,\n";
    let plan = parse(csv).unwrap();
    let fields: Vec<Option<Field>> = plan.columns.iter().map(ColumnMapping::field).collect();
    assert_eq!(
        fields,
        [
            Field::Ref,
            Field::Priority,
            Field::Action,
            Field::Impact,
            Field::Outcome,
            Field::Lead,
            Field::Due,
            Field::Status,
            Field::Progress,
            Field::CrossRefs
        ]
        .map(Some)
    );
    assert_eq!(
        plan.priorities,
        [ImportedPriority {
            key: "1".into(),
            title: "Listen to children".into(),
            description: String::new(),
        }]
    );
    let first = ImportedAction {
        impact: "Voices heard".into(),
        outcome: "Survey done".into(),
        leads: vec!["A".into(), "B".into()],
        due_raw: "May 2024".into(),
        milestones: projections::timescale::parse_timescale("May 2024"),
        status: Some(Rag::Green),
        progress: "Draft out".into(),
        cross_refs: vec!["1.2".into(), "2.1".into()],
        ..action(2, "1.1", "Run a survey")
    };
    let second = ImportedAction {
        due_raw: "Ongoing".into(),
        status: Some(Rag::Amber),
        ..action(3, "1.2", "Act on it")
    };
    assert_eq!(plan.actions, [first, second]);
}

#[test]
fn the_manchester_jtai_plan_imports_completely() {
    let plan = read_plan(
        "manchester.csv",
        &fixture("manchester-jtai-2023.csv"),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(plan.actions.len(), 14);
    let keys: Vec<&str> = plan.priorities.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["1", "2", "3", "5", "6"]);
    assert!(plan.priorities[0]
        .title
        .starts_with("How effectively the arrangements"));
    assert_eq!(plan.priorities[4].title, "Priority 6");
    let by_ref = |r: &str| plan.actions.iter().find(|a| a.reference == r).unwrap();
    assert_eq!(by_ref("6.3").milestones.len(), 2);
    assert_eq!(by_ref("6.4").milestones.len(), 2);
    assert_eq!(by_ref("2.1").milestones.len(), 2);
    assert_eq!(by_ref("2.3").milestones, []);
    assert_eq!(by_ref("2.3").due_raw, "(Dates as in CCPS)");
    assert_eq!(by_ref("5.1").due_raw, "");
    assert_eq!(by_ref("5.1").milestones, []);
    assert_eq!(by_ref("5.1").cross_refs, ["3.1"]);
    assert_eq!(
        by_ref("6.3").leads,
        ["Al Ford, Director of CAMHS, Manchester University NHS Foundation Trust (MFT)"]
    );
    assert_eq!(by_ref("1.1").leads.len(), 2);
    assert_eq!(
        by_ref("2.1").leads,
        [
            "Education",
            "Health",
            "CSC",
            "Complex Safeguarding Team/SEG"
        ]
    );
    assert!(by_ref("6.1").title.starts_with("7 Minute Briefing"));
    assert!(plan.actions.iter().all(|a| a.status.is_none()));
    assert_eq!(by_ref("6.5").at.row, 15);
    assert_eq!(plan.warnings, []);
}

#[test]
fn a_ref_at_the_start_of_the_action_text_is_the_ref() {
    let csv = "ref,Specific action\n\
               ,1.4 Independent scrutiny of the plan\n\
               ,1.5. Audit: pick cases\n\
               2.1,2.1 - Same ref in both places\n\
               2.2,7 Minute Briefing is shared\n\
               ,A1) Lettered ref\n\
               ,3a Suffixed ref\n\
               ,4) Numbered with a bracket\n";
    let refs_and_titles: Vec<(String, String)> = parse(csv)
        .unwrap()
        .actions
        .into_iter()
        .map(|a| (a.reference, a.title))
        .collect();
    let expected = [
        ("1.4", "Independent scrutiny of the plan"),
        ("1.5", "Audit: pick cases"),
        ("2.1", "Same ref in both places"),
        ("2.2", "7 Minute Briefing is shared"),
        ("A1", "Lettered ref"),
        ("3a", "Suffixed ref"),
        ("4", "Numbered with a bracket"),
    ]
    .map(|(r, t)| (r.to_owned(), t.to_owned()));
    assert_eq!(refs_and_titles, expected);
    // Without a ref column, an action whose text does not start with a ref is
    // given one, and the preview says so.
    let no_ref = parse("action\n7 Minute Briefing\n").unwrap();
    assert_eq!(no_ref.actions[0].reference, "0a");
    assert_eq!(no_ref.actions[0].title, "7 Minute Briefing");
    assert!(
        no_ref.warnings[0].message.contains("no ref"),
        "{:?}",
        no_ref.warnings
    );
}

#[test]
fn priorities_group_by_the_first_part_of_the_ref() {
    let csv = "ref,priority,action\n\
               2.1,,a\n\
               2.2,Second priority,b\n\
               2.3,Another wording,c\n\
               A1,Lettered,d\n\
               1a,,e\n\
               7,,f\n\
               1.1,First,g\n";
    let plan = parse(csv).unwrap();
    let priorities: Vec<(&str, &str)> = plan
        .priorities
        .iter()
        .map(|p| (p.key.as_str(), p.title.as_str()))
        .collect();
    assert_eq!(
        priorities,
        [
            ("2", "Second priority"),
            ("A1", "Lettered"),
            ("1a", "Priority 1a"),
            ("7", "Priority 7"),
            ("1", "First")
        ]
    );
    let keys: Vec<&str> = plan
        .actions
        .iter()
        .map(|a| a.priority_key.as_str())
        .collect();
    assert_eq!(keys, ["2", "2", "2", "A1", "1a", "7", "1"]);
}

#[test]
fn leads_split_on_semicolons_and_lines_but_not_commas() {
    let csv = "action,Who Responsible\n\
               1.1 a,\"Al Ford, Director of CAMHS\"\n\
               1.2 b,\"Police; Health\nSchools;; \"\n\
               1.3 c,\n";
    let leads: Vec<Vec<String>> = parse(csv)
        .unwrap()
        .actions
        .into_iter()
        .map(|a| a.leads)
        .collect();
    let expected: [&[&str]; 3] = [
        &["Al Ford, Director of CAMHS"],
        &["Police", "Health", "Schools"],
        &[],
    ];
    assert_eq!(
        leads,
        expected.map(|l| l.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    );
}

#[test]
fn a_date_in_a_lead_cell_is_the_timescale_not_a_lead() {
    let csv = "ref,action,Lead Agency/Officer and Timescale,due\n\
               1.1,a,\"Sam Stabler – CSP May 2024\",\n\
               1.2,b,\"Police\nDates as in CCPS\",\n\
               1.3,c,\"Health\nJune 2024\",Q1 2024/25\n\
               1.4,d,Maya Jones,\n";
    let plan = parse(csv).unwrap();
    let read: Vec<(Vec<String>, String)> = plan
        .actions
        .iter()
        .map(|a| (a.leads.clone(), a.due_raw.clone()))
        .collect();
    let expected = [
        (vec!["Sam Stabler – CSP"], "May 2024"),
        (vec!["Police"], "Dates as in CCPS"),
        (vec!["Health"], "Q1 2024/25\nJune 2024"),
        (vec!["Maya Jones"], ""),
    ]
    .map(|(leads, due)| {
        (
            leads.iter().map(|l| l.to_string()).collect(),
            due.to_owned(),
        )
    });
    assert_eq!(read, expected);
    assert_eq!(plan.actions[2].milestones.len(), 2);
}

#[test]
fn status_words_are_read_and_judgements_warned() {
    let plan =
        parse("ref,action,RAG\n1.1,a,green\n1.2,b,purple\n1.3,c,On track – funded\n1.4,d,\n")
            .unwrap();
    let statuses: Vec<Option<Rag>> = plan.actions.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(Rag::Green), None, Some(Rag::Green), None]);
    // Text that starts with no status word is kept as progress, with a warning.
    assert_eq!(plan.actions[1].progress, "purple");
    assert_eq!(plan.actions[2].progress, "funded");
    let warned: Vec<String> = plan.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(
        warned[0].starts_with("row 3, column 3 (RAG): \"purple\""),
        "{warned:?}"
    );
    assert!(
        warned[1].contains("\"On track\" is not a RAG colour; it is read as Green"),
        "{warned:?}"
    );
}

#[test]
fn any_bad_row_rejects_the_file_naming_row_and_column() {
    let missing_action = parse("ref,Specific action\n1.1,ok\n1.2,\n").unwrap_err();
    assert_eq!(where_(&missing_action), (Some(3), Some(2)));
    assert_eq!(
        missing_action.to_string(),
        "plan.csv row 3, column 2 (Specific action): no action text; every row needs the \
         action it describes, so fill it in or delete the row. Nothing from the file was \
         imported."
    );
    let duplicate = parse("ref,action\n1.1,a\n1.2,b\n1.1,c\n").unwrap_err();
    assert_eq!(where_(&duplicate), (Some(4), Some(1)));
    assert!(
        duplicate.message.contains("ref 1.1 is also used on row 2"),
        "{duplicate}"
    );
    // Windows-1252 (Excel's plain CSV) is read, not refused.
    let latin1 = parse_bytes(b"ref,action\n1.1,ok\n1.2,caf\xE9\n").unwrap();
    assert_eq!(latin1.actions[1].title, "caf\u{e9}");
    assert!(latin1.source.contains("windows-1252"), "{}", latin1.source);
    let bad_header = parse_bytes(b"ref,act\xEFon\n").unwrap_err();
    assert_eq!(where_(&bad_header), (Some(1), None));
    let stray = parse("ref,action\n1.1,a,,\n1.2,b,stray\n").unwrap_err();
    assert_eq!(where_(&stray), (Some(3), Some(3)));
    assert!(
        stray.to_string().contains("column 3 (no header)"),
        "{stray}"
    );
    let bad_ref = parse("ref,action\n1 1,a\n").unwrap_err();
    assert_eq!(where_(&bad_ref), (Some(2), Some(1)));
    let heading = parse("priority,ref,action\nPriority 1: Listen,,\n").unwrap_err();
    assert!(heading.message.contains("no actions"), "{heading}");
    let too_long = parse(&format!(
        "ref,action\n1.1,{}\n",
        "x".repeat(MAX_CELL_BYTES + 1)
    ))
    .unwrap_err();
    assert_eq!(where_(&too_long), (Some(2), Some(2)));
}

#[test]
fn files_without_actions_are_refused_with_what_to_do() {
    let no_action_column = parse("Lead,Timescale\nx,May 2024\n").unwrap_err();
    assert_eq!(where_(&no_action_column), (Some(1), None));
    assert!(
        no_action_column
            .message
            .contains("headers seen: \"Lead\", \"Timescale\""),
        "{no_action_column}"
    );
    assert!(parse("").unwrap_err().message.contains("empty"));
    assert!(parse("\n\n,,\n").unwrap_err().message.contains("empty"));
    assert!(parse("ref,action\n,,\n")
        .unwrap_err()
        .message
        .contains("no actions"));
    // UTF-16 is read: this one is a header with no action column.
    let utf16 = parse_bytes(b"\xFF\xFEr\0e\0f\0").unwrap_err();
    assert!(
        utf16.message.contains("no column holds the action text"),
        "{utf16}"
    );
}

#[test]
fn bom_crlf_quotes_and_blank_rows_are_fine() {
    let csv = b"\xEF\xBB\xBFref,action,status\r\n\
                1.1,\"Say \"\"hi\"\",\r\ntwice\",Carried over\r\n\
                ,,\r\n\
                \r\n\
                1.2,Next,In progress\r\n";
    let plan = parse_bytes(csv).unwrap();
    assert_eq!(plan.columns[0].header, "ref");
    let expected = [
        ImportedAction {
            status: Some(Rag::CarriedOver),
            ..action(2, "1.1", "Say \"hi\",\ntwice")
        },
        // Rows 3 (commas only) and 4 (an empty line) are blank and skipped.
        ImportedAction {
            status: Some(Rag::Amber),
            ..action(5, "1.2", "Next")
        },
    ];
    assert_eq!(plan.actions, expected);
}

#[test]
fn rows_are_counted_as_the_spreadsheet_shows_them() {
    for (csv, rows) in [
        ("\n\nref,action\n1.1,a\n", vec![4]),
        ("ref,action\n\n\n1.1,a\n\n1.2,b", vec![4, 6]),
        (
            "ref,action\r\n1.1,\"a\r\n\r\nb\"\r\n\r\n1.2,c\r\n",
            vec![2, 4],
        ),
        ("ref,action\r1.1,a\r\r1.2,b\r", vec![2, 4]),
    ] {
        let found: Vec<usize> = parse(csv)
            .unwrap()
            .actions
            .iter()
            .map(|a| a.at.row)
            .collect();
        assert_eq!(found, rows, "csv {csv:?}");
    }
    let error = parse("ref,action\n\n1.1,a\n\n1.2,\n").unwrap_err();
    assert_eq!(error.at.map(|at| at.row), Some(5));
}

#[test]
fn cells_are_trimmed_and_stripped_of_control_characters() {
    let csv = "ref,action,progress\n 1.1 ,\" Tab\tkept \u{7}bell gone \u{202E}override gone\",\"a\r\nb\rc\"\n";
    let action = &parse(csv).unwrap().actions[0];
    assert_eq!(action.reference, "1.1");
    assert_eq!(action.title, "Tab\tkept bell gone override gone");
    assert_eq!(action.progress, "a\nb\nc");
}

#[test]
fn the_largest_text_plan_reads_and_one_row_more_is_refused() {
    let mut csv = String::from("ref,action,lead,due,status,cross_refs\n");
    for i in 0..49_999 {
        csv.push_str(&format!(
            "{}.{},Action {i},Lead {i}; Other,May 2024,green,1.1\n",
            i / 100,
            i % 100
        ));
    }
    let plan = parse(&csv).unwrap();
    assert_eq!(plan.actions.len(), 49_999);
    assert_eq!(plan.priorities.len(), 500);
    assert_eq!(plan.actions[49_998].at.row, 50_000);
    csv.push_str("999.1,One more,Lead,May 2024,green,\n");
    let refused = parse(&csv).unwrap_err().to_string();
    assert!(
        refused.contains("row 50001: the file goes on past 50,000 rows"),
        "{refused}"
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn csv_like_text_never_panics_and_keeps_every_row(
        body in "([0-9a-c.;, \"\r\n\t]|green|May 2024){0,200}"
    ) {
        let csv = format!("ref,action,lead,due,status,cross_refs\n{body}");
        if let Ok(plan) = parse(&csv) {
            let rows: Vec<usize> = plan.actions.iter().map(|a| a.at.row).collect();
            proptest::prop_assert!(rows.windows(2).all(|w| w[0] < w[1]));
            proptest::prop_assert!(plan.actions.iter().all(|a| !a.title.is_empty()));
        }
    }
}
