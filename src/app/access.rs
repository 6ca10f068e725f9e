//! Who may see and change what: one function per access rule, used by the change
//! builders, the pages, the API and the service's writer alike. Roles themselves
//! (which routes a role may reach) are the web's; these are the rules that depend
//! on the data — a partner lead is confined to its own agency.

use projections::events::ActionRef;
use projections::world::Challenge;
use projections::World;

/// Whether `agency` leads the action `at`: one of its leads names the agency in
/// whole words, ignoring case and punctuation — by any of its registered names
/// (id, name, aliases) when it is registered, else by the text given. "GMP" leads
/// "Chris Downey, Superintendent GMP" and, registered with the name "Greater
/// Manchester Police", "Greater Manchester Police"; "Health" does not lead
/// "Healthwatch", nor "He" "Health". An empty agency leads nothing.
pub fn leads_action(world: &World, at: &ActionRef, agency: &str) -> bool {
    let names: Vec<Vec<String>> = match world.agency_named(agency) {
        Some(registered) => registered.names().map(words).collect(),
        None => vec![words(agency)],
    };
    let names: Vec<Vec<String>> = names.into_iter().filter(|n| !n.is_empty()).collect();
    !names.is_empty()
        && world.action(at).is_some_and(|a| {
            a.details.leads.iter().any(|lead| {
                let lead = words(lead);
                names
                    .iter()
                    .any(|name| lead.windows(name.len()).any(|run| run == name.as_slice()))
            })
        })
}

/// The ids of the registered agencies a lead names, by any of their names in whole
/// words ("Relevant partners from Health, GMP, Education" → three agencies).
pub fn agencies_named_by(world: &World, lead: &str) -> Vec<String> {
    let lead = words(lead);
    world
        .agencies
        .values()
        .filter(|agency| {
            agency.names().map(words).any(|name| {
                !name.is_empty() && lead.windows(name.len()).any(|run| run == name.as_slice())
            })
        })
        .map(|agency| agency.id.clone())
        .collect()
}

/// The words of a name, lower-case, with punctuation and spacing ignored.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether a caller acting for `agency` (`None`: the board's roles) may see a
/// challenge: a partner lead sees only the challenges raised to its own agency —
/// the same registered agency by any of its names (`World::same_agency`).
pub fn may_see_challenge(world: &World, agency: Option<&str>, challenge: &Challenge) -> bool {
    may_see_challenge_to(world, agency, &challenge.to_agency)
}

/// `may_see_challenge` for a challenge addressed to `to_agency`.
pub fn may_see_challenge_to(world: &World, agency: Option<&str>, to_agency: &str) -> bool {
    agency.is_none_or(|a| world.same_agency(to_agency, a))
}

/// Whether a caller may download an evidence file: the board's roles may; a partner
/// lead only one named on an action or on a challenge it may see.
pub fn may_see_evidence(world: &World, agency: Option<&str>, hash: &[u8; 32]) -> bool {
    agency.is_none() || evidence_name(world, agency, hash).is_some()
}

/// The file name an evidence file was recorded with, where the caller may see it
/// (on an action, or on a challenge it may see).
pub fn evidence_name(world: &World, agency: Option<&str>, hash: &[u8; 32]) -> Option<String> {
    let named = |evidence: &[projections::events::Evidence]| {
        evidence
            .iter()
            .find(|e| &e.blake3 == hash)
            .map(|e| e.name.clone())
    };
    let on_action = world
        .plans
        .values()
        .flat_map(|p| p.actions.values())
        .flat_map(|a| &a.entries)
        .find_map(|e| named(&e.evidence));
    on_action.or_else(|| {
        world
            .challenges
            .values()
            .filter(|c| may_see_challenge(world, agency, c))
            .flat_map(|c| &c.responses)
            .find_map(|e| named(&e.evidence))
    })
}
