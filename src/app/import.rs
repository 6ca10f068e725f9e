//! Importing a plan file, from the inputs a user gives (the command line's flags,
//! the import page's form, the API's query): one reading of those inputs into what
//! `import::read_plan` needs and what `Change::Import` records, so an import means
//! the same from every front end. The file's bytes come from the caller.

use anyhow::Result;
use chrono::Datelike as _;
use projections::planned::check_id;
use projections::timescale::{days_to_date, PlanYears};

use super::input;
use crate::exit::Usage;
use crate::import::{read_plan, ImportOptions, ImportedPlan, Recording, Warning};

/// What a user asked to import, as typed (empty text counts as not given).
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    pub plan: String,
    /// The file's own name, recorded with the plan (never a path on the server).
    pub file_name: String,
    /// How errors name the file (the command line gives the path it was given).
    pub shown_as: String,
    pub title: Option<String>,
    pub period: Option<String>,
    /// The date the plan starts (its actions exist from then).
    pub effective: Option<String>,
    /// The date the file's statuses and progress describe (default: the start).
    pub as_at: Option<String>,
    pub sheet: Option<String>,
    /// `HEADER=FIELD` choices.
    pub maps: Vec<String>,
    /// `COLOUR=STATUS` meanings.
    pub legends: Vec<String>,
    /// The title when neither the request nor the file's title block gives one.
    pub fallback_title: String,
    /// What the caller calls the two dates, for errors.
    pub date_names: [&'static str; 2],
}

fn given(text: &Option<String>) -> Option<String> {
    text.as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Reads `bytes` as `request` says: the plan in the file and what recording it
/// would say (its id, title, period, start and as-at dates). Refusals are `Usage`.
pub fn read_import(request: &ImportRequest, bytes: &[u8]) -> Result<(ImportedPlan, Recording)> {
    check_id("plan id", &request.plan)?;
    let [starts, as_at_name] = request.date_names;
    let effective = input::effective_day(request.effective.as_deref(), starts)?;
    let as_at = input::optional_date(request.as_at.as_deref(), as_at_name)?.unwrap_or(effective);
    let period = given(&request.period);
    let years = period
        .as_deref()
        .map(PlanYears::from_period)
        .unwrap_or_default();
    let mut options = ImportOptions::new(
        given(&request.sheet),
        &request.maps,
        &request.legends,
        years,
    )
    .map_err(Usage)?;
    options.around_year = days_to_date(effective).map(|d| d.year());
    let imported =
        read_plan(&request.shown_as, bytes, &options).map_err(|e| Usage(e.to_string()))?;
    let title = given(&request.title)
        .or_else(|| imported.title_block.first().cloned())
        .unwrap_or_else(|| request.fallback_title.clone());
    let recording = Recording {
        plan_id: request.plan.clone(),
        title,
        period,
        effective,
        as_at,
        file_name: request.file_name.clone(),
    };
    Ok((imported, recording))
}

/// Once agencies are registered, warns of every lead that names none of them: it is
/// kept as written, but no partner lead can be matched to it (nothing is dropped or
/// guessed; the warning says what to do).
pub fn resolve_leads(world: &projections::World, plan: &mut ImportedPlan) {
    if world.agencies.is_empty() {
        return;
    }
    let mut warnings = Vec::new();
    for action in &mut plan.actions {
        let mut agencies = Vec::new();
        for lead in &action.leads {
            let named = super::access::agencies_named_by(world, lead);
            agencies.extend(named.iter().cloned());
            if named.is_empty() {
                warnings.push(Warning {
                    at: Some(action.at.to_string()),
                    message: format!(
                        "the lead {lead:?} of action {} names no registered agency; it is kept as written, but no partner lead can record progress by it (register the agency or an alias with `assure agency add`)",
                        action.reference
                    ),
                });
            }
        }
        agencies.sort_unstable();
        agencies.dedup();
        action.lead_agencies = agencies;
    }
    plan.warnings.extend(warnings);
}
