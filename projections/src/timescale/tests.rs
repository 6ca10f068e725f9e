//! The timescales real plans write, and the milestones each must give.

#![allow(clippy::unwrap_used)]

use super::*;

/// Each timescale as written in a plan, and the milestones it must give as
/// (label, ISO date). An empty list means "no milestone": the raw text is kept.
const TIMESCALES: &[(&str, &[(&str, &str)])] = &[
    ("May 2024", &[("May 2024", "2024-05-31")]),
    ("April 2018*", &[("April 2018*", "2018-04-30")]),
    (
        "Feb 2024 and annually thereafter",
        &[("Feb 2024 and annually thereafter", "2024-02-29")],
    ),
    ("Ongoing", &[]),
    ("(Dates as in CCPS)", &[]),
    ("", &[]),
    ("   ", &[]),
    (
        "Plan evidence: May 2024; Audit: June 2024",
        &[("Plan evidence", "2024-05-31"), ("Audit", "2024-06-30")],
    ),
    (
        "Strategy developed: March 2024; Strategy communicated/delivered from: April 2024",
        &[
            ("Strategy developed", "2024-03-31"),
            ("Strategy communicated/delivered from", "2024-04-30"),
        ],
    ),
    (
        "Pilot developed: April 2024; Roll out/Offer Launch, starting: April 2024",
        &[
            ("Pilot developed", "2024-04-30"),
            ("Roll out/Offer Launch, starting", "2024-04-30"),
        ],
    ),
    (
        "Training commissioned: February 2024\nOn the calendar: April 2024",
        &[
            ("Training commissioned", "2024-02-29"),
            ("On the calendar", "2024-04-30"),
        ],
    ),
    (
        "- Review: 31/12/2024\r\n- Report: Jan 2025",
        &[("Review", "2024-12-31"), ("Report", "2025-01-31")],
    ),
    // Full dates, UK day first.
    ("31/03/2024", &[("31/03/2024", "2024-03-31")]),
    ("1/4/2024", &[("1/4/2024", "2024-04-01")]),
    ("04/05/2024", &[("04/05/2024", "2024-05-04")]),
    ("31.03.2024", &[("31.03.2024", "2024-03-31")]),
    ("31/03/24", &[("31/03/24", "2024-03-31")]),
    ("2024-03-31", &[("2024-03-31", "2024-03-31")]),
    ("31 March 2024", &[("31 March 2024", "2024-03-31")]),
    ("31st March 2024", &[("31st March 2024", "2024-03-31")]),
    ("1st of April 2024", &[("1st of April 2024", "2024-04-01")]),
    ("31-Mar-2024", &[("31-Mar-2024", "2024-03-31")]),
    ("31-Mar-24", &[("31-Mar-24", "2024-03-31")]),
    ("March 31, 2024", &[("March 31, 2024", "2024-03-31")]),
    (
        "Review on 31/03/2024 12:00",
        &[("Review on 31/03/2024 12:00", "2024-03-31")],
    ),
    // A month alone is the end of that month.
    ("Sept 2024", &[("Sept 2024", "2024-09-30")]),
    ("Sep 2024", &[("Sep 2024", "2024-09-30")]),
    ("September 2024", &[("September 2024", "2024-09-30")]),
    ("Sept. 2024", &[("Sept. 2024", "2024-09-30")]),
    ("SEPTEMBER 2024", &[("SEPTEMBER 2024", "2024-09-30")]),
    ("Mar-24", &[("Mar-24", "2024-03-31")]),
    ("Mar '24", &[("Mar '24", "2024-03-31")]),
    ("03/2024", &[("03/2024", "2024-03-31")]),
    ("2024-02", &[("2024-02", "2024-02-29")]),
    ("Feb 2023", &[("Feb 2023", "2023-02-28")]),
    ("end of March 2024", &[("end of March 2024", "2024-03-31")]),
    ("by Dec 2024", &[("by Dec 2024", "2024-12-31")]),
    // Quarters, financial years, the end of a year, seasons.
    ("Q1 2024", &[("Q1 2024", "2024-03-31")]),
    ("Q4 2024", &[("Q4 2024", "2024-12-31")]),
    ("Q1 2024/25", &[("Q1 2024/25", "2024-06-30")]),
    ("Q4 2024/25", &[("Q4 2024/25", "2025-03-31")]),
    ("2024/25", &[("2024/25", "2025-03-31")]),
    ("2024-25", &[("2024-25", "2025-03-31")]),
    ("2024/2025", &[("2024/2025", "2025-03-31")]),
    (
        "by the end of 2024/25",
        &[("by the end of 2024/25", "2025-03-31")],
    ),
    ("end of 2024", &[("end of 2024", "2024-12-31")]),
    ("Spring 2024", &[("Spring 2024", "2024-05-31")]),
    ("Summer 2024", &[("Summer 2024", "2024-08-31")]),
    ("Autumn 2024", &[("Autumn 2024", "2024-11-30")]),
    // Ranges are due at their end.
    ("Jan - Mar 2024", &[("Jan - Mar 2024", "2024-03-31")]),
    (
        "Jan 2024 to June 2024",
        &[("Jan 2024 to June 2024", "2024-06-30")],
    ),
    (
        "01/01/2024-31/03/2024",
        &[("01/01/2024-31/03/2024", "2024-03-31")],
    ),
    (
        "May 2024 - ongoing",
        &[("May 2024 - ongoing", "2024-05-31")],
    ),
    // Never a wrong date: impossible or vague text gives no milestone.
    ("31/02/2024", &[]),
    ("30 Feb 2024", &[]),
    ("13/13/2024", &[]),
    ("03/31/2024", &[]),
    ("Review 31/02/2024 then May 2024", &[]),
    ("Q5 2024", &[]),
    ("Q1 2024/26", &[]),
    ("2024/27", &[]),
    ("2024", &[]),
    ("Winter 2024", &[]),
    ("Spring term 2024", &[]),
    ("May 3000", &[]),
    ("March", &[]),
    ("6 months", &[]),
    ("see 1.2.3", &[]),
    ("Mai 2024", &[]),
    ("März 2024", &[]),
    ("Mar 24", &[]),
    (
        "Jan 2025 - Jan 2024",
        &[("Jan 2025 - Jan 2024", "2025-01-31")],
    ),
    // Without the plan's years a two-digit year written apart is not read, and a
    // day and month with no year is not a date; tied on, it is this century's.
    ("Oct 09", &[]),
    ("May 09\nSept 09", &[]),
    ("09 May", &[]),
    ("Mar-09", &[("Mar-09", "2009-03-31")]),
    // A start is not a deadline: no milestone, unless it opens a range.
    ("from April 2024", &[]),
    ("From April 2024", &[]),
    ("starting April 2024", &[]),
    ("Starting in April 2024", &[]),
    ("commencing Jan 2024", &[]),
    ("Commencing on 1st April 2024", &[]),
    ("with effect from 1 April 2024", &[]),
    ("w.e.f. 1 April 2024", &[]),
    ("wef 1/4/2024", &[]),
    ("w/c 5 Feb 2024", &[]),
    ("W/B 5 Feb 2024", &[]),
    ("from early April 2024", &[]),
    ("April 2024 onwards", &[]),
    ("April 2024 - onwards", &[]),
    ("since April 2024", &[]),
    ("after March 2024", &[]),
    ("by the start of April 2024", &[]),
    ("from Jan 2024 until further notice", &[]),
    ("from Jan 2024 - ongoing", &[]),
    ("from Jan 2025 - Jan 2024", &[]),
    (
        "from Jan 2024 to March 2024",
        &[("from Jan 2024 to March 2024", "2024-03-31")],
    ),
    (
        "from Jan 2024 - March 2024",
        &[("from Jan 2024 - March 2024", "2024-03-31")],
    ),
    (
        "w/c 5 Feb 2024 - 9 Feb 2024",
        &[("w/c 5 Feb 2024 - 9 Feb 2024", "2024-02-09")],
    ),
    (
        "Review: from April 2024; Report: June 2024",
        &[("Report", "2024-06-30")],
    ),
    // Start wording in the label names the milestone; start wording apart from
    // the date does not make it a start.
    (
        "Delivered from: April 2024",
        &[("Delivered from", "2024-04-30")],
    ),
    (
        "Feedback from partners May 2024",
        &[("Feedback from partners May 2024", "2024-05-31")],
    ),
    (
        "Launch in April 2024",
        &[("Launch in April 2024", "2024-04-30")],
    ),
    // A recurrence is due at its first date, even after start wording, and its
    // label keeps the recurrence visible.
    (
        "March 2024 then quarterly",
        &[("March 2024 then quarterly", "2024-03-31")],
    ),
    (
        "Annually from May 2024",
        &[("Annually from May 2024", "2024-05-31")],
    ),
    (
        "from April 2024 and monthly thereafter",
        &[("from April 2024 and monthly thereafter", "2024-04-30")],
    ),
    (
        "Quarterly from April 2024 onwards",
        &[("Quarterly from April 2024 onwards", "2024-04-30")],
    ),
    (
        "Six-monthly, starting Oct 2024",
        &[("Six-monthly, starting Oct 2024", "2024-10-31")],
    ),
    (
        "Quarterly report: from April 2024",
        &[("Quarterly report: from April 2024", "2024-04-30")],
    ),
    (
        "Quarterly from Jan 2024 to Dec 2024",
        &[("Quarterly from Jan 2024 to Dec 2024", "2024-12-31")],
    ),
    ("Annual review from April 2024", &[]),
];

/// Milestones as (label, ISO date).
type Expected = &'static [(&'static str, &'static str)];

/// Timescales in a plan whose period is written as the first item, and the
/// milestones they must give. The same text may read differently in another plan.
const IN_PLAN_YEARS: &[(&str, &str, Expected)] = &[
    ("2009-10", "Oct 09", &[("Oct 09", "2009-10-31")]),
    (
        "2009-10",
        "May 09\nSept 09",
        &[("May 09", "2009-05-31"), ("Sept 09", "2009-09-30")],
    ),
    ("2009-10", "Sept. 09", &[("Sept. 09", "2009-09-30")]),
    ("2009-10", "(Oct 09)", &[("(Oct 09)", "2009-10-31")]),
    ("2009-10", "OCT 09", &[("OCT 09", "2009-10-31")]),
    ("2009-10", "Oct09", &[("Oct09", "2009-10-31")]),
    ("2009-10", "March 10.", &[("March 10.", "2010-03-31")]),
    ("2009-10", "Jan 2010", &[("Jan 2010", "2010-01-31")]),
    (
        "2009-10",
        "May 09 - Sept 09",
        &[("May 09 - Sept 09", "2009-09-30")],
    ),
    (
        "2009-10",
        "Sept 09-March 10",
        &[("Sept 09-March 10", "2010-03-31")],
    ),
    ("2009-10", "9/May 10", &[]),
    ("2009-10", "2009 May 10", &[]),
    ("2009-10", "Oct 09 onwards", &[]),
    (
        "2009-10",
        "Audit: Oct 09; Report: Mar 10",
        &[("Audit", "2009-10-31"), ("Report", "2010-03-31")],
    ),
    // Two years beyond the plan, written apart, is still read; three is not,
    // because "March 31" may be a day.
    ("2009-10", "Oct 12", &[("Oct 12", "2012-10-31")]),
    ("2009-10", "Oct 06", &[]),
    ("2009-10", "Oct 13", &[]),
    ("2024-25", "March 31", &[]),
    (
        "2024-25",
        "March 31, 2025",
        &[("March 31, 2025", "2025-03-31")],
    ),
    // Forms tied to their month or day: the century nearest the plan, any distance.
    ("2009-10", "Mar-09", &[("Mar-09", "2009-03-31")]),
    ("2009-10", "Mar '10", &[("Mar '10", "2010-03-31")]),
    ("2009-10", "31/03/10", &[("31/03/10", "2010-03-31")]),
    ("2009-10", "31.03.10", &[("31.03.10", "2010-03-31")]),
    ("2009-10", "31-Mar-10", &[("31-Mar-10", "2010-03-31")]),
    ("2009-10", "Mar-24", &[("Mar-24", "2024-03-31")]),
    ("2009-10", "Mar 24", &[]),
    ("2024", "Mar-24", &[("Mar-24", "2024-03-31")]),
    ("2024", "Mar 24", &[("Mar 24", "2024-03-31")]),
    ("2001", "Oct 99", &[("Oct 99", "1999-10-31")]),
    ("2001", "Mar-99", &[("Mar-99", "1999-03-31")]),
    ("2001", "31/03/99", &[("31/03/99", "1999-03-31")]),
    ("1999-00", "Jan 00", &[("Jan 00", "2000-01-31")]),
    // A day before the month makes a day, month and year.
    ("2009-10", "31 Mar 10", &[("31 Mar 10", "2010-03-31")]),
    ("2009-10", "9th May 10", &[("9th May 10", "2010-05-09")]),
    // Never a guess, never a wrong date.
    ("2009-10", "09 May", &[]),
    ("2009-10", "31/02/09", &[]),
    ("2009-10", "30 Feb 10", &[]),
    ("2009-10", "May 09th", &[]),
    ("2009-10", "May 10:30", &[]),
    ("2009-10", "May 09/10", &[]),
    ("2009-10", "may 10", &[]),
    ("2009-10", "Oct 9", &[]),
    ("2009-10", "03/10", &[]),
    ("2050", "Mar-00", &[]),
    ("2050", "Mar-00 then May 2050", &[]),
    ("next year", "Oct 09", &[]),
    ("next year", "Mar-09", &[("Mar-09", "2009-03-31")]),
    // Starts and recurrences, as without the plan's years.
    ("2009-10", "from April 2009", &[]),
    ("2009-10", "from Oct 09", &[]),
    (
        "2009-10",
        "from Oct 09 to Mar 10",
        &[("from Oct 09 to Mar 10", "2010-03-31")],
    ),
    (
        "2009-10",
        "Annually from May 09",
        &[("Annually from May 09", "2009-05-31")],
    ),
    (
        "2009-10",
        "March 2010 and annually thereafter",
        &[("March 2010 and annually thereafter", "2010-03-31")],
    ),
    (
        "2023-24",
        "Feb 2024 and annually thereafter",
        &[("Feb 2024 and annually thereafter", "2024-02-29")],
    ),
    ("2024-25", "Dates as in CCPS", &[]),
    ("2024-25", "May 2024", &[("May 2024", "2024-05-31")]),
];

/// Periods as plans write them, and the years they name.
const PERIODS: &[(&str, Option<i32>, Option<i32>)] = &[
    ("2009-10", Some(2009), Some(2010)),
    ("2009/10", Some(2009), Some(2010)),
    ("2009-2010", Some(2009), Some(2010)),
    ("2009/2010", Some(2009), Some(2010)),
    ("2009 - 10", Some(2009), Some(2010)),
    ("2009–10", Some(2009), Some(2010)),
    ("2024", Some(2024), Some(2024)),
    ("April 2024 – March 2025", Some(2024), Some(2025)),
    ("2023-24 plan", Some(2023), Some(2024)),
    ("Business Plan 2023-24 (draft)", Some(2023), Some(2024)),
    ("01/04/2024 - 31/03/2025", Some(2024), Some(2025)),
    ("2024 - 31/03/2025", Some(2024), Some(2025)),
    ("2024-04-01 to 2025-03-31", Some(2024), Some(2025)),
    ("1999-00", Some(1999), Some(2000)),
    ("2020-25", Some(2020), Some(2025)),
    ("2025 - 2024", Some(2024), Some(2025)),
    // A two-digit "year" more than ten years on is not a second year.
    ("2024-03", Some(2024), Some(2024)),
    ("2009-09", Some(2009), Some(2009)),
    ("", None, None),
    ("next year", None, None),
    ("FY09/10", None, None),
    ("ref 12345", None, None),
    ("1850", None, None),
];

fn as_written(milestones: &[Milestone]) -> Vec<(String, String)> {
    milestones
        .iter()
        .map(|m| (m.label.clone(), days_to_date(m.on).unwrap().to_string()))
        .collect()
}

fn owned(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(label, date)| ((*label).to_owned(), (*date).to_owned()))
        .collect()
}

#[test]
fn timescales_from_real_plans_give_these_milestones() {
    for (raw, expected) in TIMESCALES {
        assert_eq!(
            as_written(&parse_timescale(raw)),
            owned(expected),
            "timescale {raw:?}"
        );
        assert_eq!(
            as_written(&parse_timescale_in(raw, PlanYears::default())),
            owned(expected),
            "timescale {raw:?} with no plan years"
        );
    }
}

#[test]
fn timescales_in_a_plans_years_give_these_milestones() {
    for (period, raw, expected) in IN_PLAN_YEARS {
        let years = PlanYears::from_period(period);
        assert_eq!(
            as_written(&parse_timescale_in(raw, years)),
            owned(expected),
            "timescale {raw:?} in a {period:?} plan"
        );
    }
}

#[test]
fn periods_name_the_plans_years() {
    for (period, first, last) in PERIODS {
        assert_eq!(
            PlanYears::from_period(period),
            PlanYears {
                first: *first,
                last: *last
            },
            "period {period:?}"
        );
    }
    assert_eq!(
        PlanYears::around(2001),
        PlanYears {
            first: Some(2001),
            last: Some(2001)
        }
    );
}

#[test]
fn plan_years_known_in_part_or_out_of_order_still_read() {
    let table = [
        (Some(2009), None, "2009-10-31"),
        (None, Some(2009), "2009-10-31"),
        (Some(2010), Some(2009), "2009-10-31"),
        (Some(2102), Some(2110), "2109-10-31"),
    ];
    for (first, last, date) in table {
        let years = PlanYears { first, last };
        assert_eq!(
            as_written(&parse_timescale_in("Oct 09", years)),
            owned(&[("Oct 09", date)]),
            "{years:?}"
        );
    }
    // Plans spanning a century, or beyond any calendar, read no two-digit year.
    let unreadable = [
        (Some(1950), Some(2050)),
        (Some(i32::MIN), Some(i32::MAX)),
        (Some(i32::MAX), None),
        (None, Some(i32::MIN)),
    ];
    for (first, last) in unreadable {
        let years = PlanYears { first, last };
        for raw in ["Oct 09", "Mar-09", "31/03/09"] {
            assert_eq!(parse_timescale_in(raw, years), [], "{raw:?} in {years:?}");
        }
        assert_eq!(
            as_written(&parse_timescale_in("May 2024", years)),
            owned(&[("May 2024", "2024-05-31")])
        );
    }
}

#[test]
fn days_count_from_1970() {
    let table = [
        (0, "1970-01-01"),
        (1, "1970-01-02"),
        (-1, "1969-12-31"),
        (19_813, "2024-03-31"),
    ];
    for (days, date) in table {
        let date: NaiveDate = date.parse().unwrap();
        assert_eq!(days_to_date(days), Some(date));
        assert_eq!(date_to_days(date), days);
    }
    assert_eq!(days_to_date(i32::MAX), None);
    assert_eq!(days_to_date(i32::MIN), None);
}

proptest::proptest! {
    #[test]
    fn any_text_parses_without_panicking_to_real_dates(raw in "\\PC{0,120}") {
        for milestone in parse_timescale(&raw) {
            proptest::prop_assert!(days_to_date(milestone.on).is_some());
        }
    }

    #[test]
    fn date_like_text_never_panics(raw in "[0-9QqMayDec/.\\- :;'’,\n]{0,60}") {
        let _ = parse_timescale(&raw);
    }

    #[test]
    fn any_text_in_any_plan_parses_without_panicking_to_real_dates(
        raw in "\\PC{0,120}",
        first in proptest::option::of(proptest::num::i32::ANY),
        last in proptest::option::of(1800i32..2300),
    ) {
        let _ = PlanYears::from_period(&raw);
        for milestone in parse_timescale_in(&raw, PlanYears { first, last }) {
            proptest::prop_assert!(days_to_date(milestone.on).is_some());
        }
    }

    #[test]
    fn date_like_text_in_a_plan_never_panics(
        raw in "[0-9MayOctSeptfromw/c.\\- :;'’,\n]{0,60}",
        first in 1850i32..2250,
        length in 0i32..5,
    ) {
        let years = PlanYears { first: Some(first), last: Some(first + length) };
        let _ = parse_timescale_in(&raw, years);
        let _ = PlanYears::from_period(&raw);
    }

    #[test]
    fn without_plan_years_nothing_is_added(raw in "\\PC{0,80}|[0-9MayOct/.\\- :;',\n]{0,40}") {
        let plain = parse_timescale(&raw);
        let without = parse_timescale_in(&raw, PlanYears::default());
        for milestone in &without {
            proptest::prop_assert!(plain.contains(milestone), "{:?} added", milestone);
        }
        proptest::prop_assert_eq!(without, plain);
    }

    /// The plan's years only ever change how two-digit years are read: text with
    /// none reads the same in any plan.
    #[test]
    fn plan_years_change_only_two_digit_years(
        raw in "[0-9MayOctSeptfrom/.\\- :;',\n]{0,60}",
        first in 1850i32..2250,
        length in 0i32..5,
    ) {
        // Every run of exactly two digits gets a third, so none is left.
        let mut text = String::new();
        let mut run = String::new();
        for c in raw.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_digit() {
                run.push(c);
                continue;
            }
            if run.len() == 2 {
                text.push('1');
            }
            text.push_str(&run);
            run.clear();
            text.push(c);
        }
        let years = PlanYears { first: Some(first), last: Some(first + length) };
        proptest::prop_assert_eq!(parse_timescale_in(&text, years), parse_timescale(&text));
    }

    /// A two-digit year is read in the century nearest the plan: tied to its month
    /// or day at any distance under fifty years, written apart within two.
    #[test]
    fn two_digit_years_read_back_nearest_the_plan(
        year in 1905i32..2195,
        month in 1u32..13,
        day in 1u32..29,
        far in -49i32..50,
        near in -2i32..3,
    ) {
        const NAMES: [&str; 12] = [
            "January", "February", "March", "April", "May", "June", "July",
            "August", "September", "October", "November", "December",
        ];
        let name = NAMES[usize::try_from(month - 1).unwrap()];
        let short = year.rem_euclid(100);
        let end = u32::try_from(year).ok().and_then(|y| end_of_month(y, month)).unwrap();
        let on_day = NaiveDate::from_ymd_opt(year, month, day).unwrap();
        let read = |raw: &str, plan: i32| {
            parse_timescale_in(raw, PlanYears::around(plan))
                .iter()
                .map(|m| m.on)
                .collect::<Vec<_>>()
        };
        let tied = [
            (format!("{}-{short:02}", &name[..3]), end),
            (format!("{name} '{short:02}"), end),
            (format!("{day:02}/{month:02}/{short:02}"), on_day),
            (format!("{day}-{}-{short:02}", &name[..3]), on_day),
        ];
        for (raw, date) in &tied {
            let expected = vec![date_to_days(*date)];
            proptest::prop_assert_eq!(read(raw, year + far), expected, "{}", raw);
        }
        let apart = [
            (format!("{name} {short:02}"), end),
            (format!("{} {short:02}", &name[..3]), end),
            (format!("{day} {name} {short:02}"), on_day),
        ];
        for (raw, date) in &apart {
            let expected = vec![date_to_days(*date)];
            proptest::prop_assert_eq!(read(raw, year + near), expected, "{}", raw);
            if far.unsigned_abs() > SPACED_YEAR_REACH {
                proptest::prop_assert_eq!(read(raw, year + far), Vec::<i32>::new(), "{}", raw);
            }
        }
    }

    #[test]
    fn days_and_dates_round_trip(days in -700_000i32..3_000_000) {
        let date = days_to_date(days).unwrap();
        proptest::prop_assert_eq!(date_to_days(date), days);
    }

    #[test]
    fn any_real_day_first_date_reads_back(date in (1900i32..2200, 1u32..13, 1u32..32)) {
        let (year, month, day) = date;
        if let Some(date) = NaiveDate::from_ymd_opt(year, month, day) {
            let written = format!("{day:02}/{month:02}/{year}");
            let read = parse_timescale(&written);
            proptest::prop_assert_eq!(read.len(), 1);
            proptest::prop_assert_eq!(read.first().map(|m| m.on), Some(date_to_days(date)));
        } else {
            let impossible = format!("{day}/{month}/{year}");
            proptest::prop_assert!(parse_timescale(&impossible).is_empty());
        }
    }
}
