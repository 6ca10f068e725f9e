//! Who may see and change what: one function per access rule, used by the change
//! builders, the pages, the API and the service's writer alike. Roles themselves
//! (which routes a role may reach) are the web's; these are the rules that depend
//! on the data — a partner lead is confined to its own agency.

use projections::events::ActionRef;
use projections::world::Challenge;
use projections::World;

/// Whether `agency` leads the action `at`: one of its leads names the agency
/// (ignoring case). An empty agency leads nothing.
pub fn leads_action(world: &World, at: &ActionRef, agency: &str) -> bool {
    let agency = agency.to_lowercase();
    !agency.is_empty()
        && world.action(at).is_some_and(|a| {
            a.details
                .leads
                .iter()
                .any(|l| l.to_lowercase().contains(&agency))
        })
}

/// Whether a caller acting for `agency` (`None`: the board's roles) may see a
/// challenge: a partner lead sees only the challenges raised to its own agency.
pub fn may_see_challenge(agency: Option<&str>, challenge: &Challenge) -> bool {
    may_see_challenge_to(agency, &challenge.to_agency)
}

/// `may_see_challenge` for a challenge addressed to `to_agency`.
pub fn may_see_challenge_to(agency: Option<&str>, to_agency: &str) -> bool {
    agency.is_none_or(|a| to_agency.eq_ignore_ascii_case(a))
}

/// Whether a caller acting for `agency` may download the evidence file `hash`: the
/// board's roles any; a partner lead one attached to an action's entry, or to a
/// response to a challenge it may see.
pub fn may_see_evidence(world: &World, agency: Option<&str>, hash: &[u8; 32]) -> bool {
    if agency.is_none() {
        return true;
    }
    let names =
        |evidence: &[projections::events::Evidence]| evidence.iter().any(|e| &e.blake3 == hash);
    let on_action = world
        .plans
        .values()
        .flat_map(|p| p.actions.values())
        .flat_map(|a| &a.entries)
        .any(|e| names(&e.evidence));
    on_action
        || world
            .challenges
            .values()
            .filter(|c| may_see_challenge(agency, c))
            .flat_map(|c| &c.responses)
            .any(|e| names(&e.evidence))
}
