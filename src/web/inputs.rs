//! What page forms and API bodies share: the fields of a challenge step and of a
//! carry-over, turned into the application layer's `Change`.

use projections::events::ActionRef;
use serde::Deserialize;

use crate::app::Change;

/// The fields of a challenge step (respond, escalate, close), from a page form or
/// an API body.
#[derive(Deserialize, Default)]
pub(super) struct StepFields {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub outcome: String,
    #[serde(default)]
    pub impact: String,
}

/// One step of a challenge's life.
#[derive(Debug, Clone, Copy)]
pub(super) enum Step {
    Respond,
    Escalate,
    Close,
}

impl StepFields {
    /// The change a step's fields ask for (an empty impact is none).
    pub(super) fn change(self, id: &str, step: Step) -> Change {
        let id = id.to_owned();
        match step {
            Step::Respond => Change::Respond {
                id,
                text: self.text,
                evidence: Vec::new(),
            },
            Step::Escalate => Change::Escalate {
                id,
                to: self.to,
                reason: self.reason,
            },
            Step::Close => Change::Close {
                id,
                outcome: self.outcome,
                impact: Some(self.impact).filter(|i| !i.trim().is_empty()),
            },
        }
    }
}

/// A carry-over from a form or an API body: the destination ref is the source's
/// unless one is given; an empty forum is none.
pub(super) fn carry_over(
    id: &str,
    reference: &str,
    to_plan: &str,
    to_ref: &str,
    reason: String,
    forum: &str,
) -> Change {
    let to_ref = Some(to_ref.trim())
        .filter(|r| !r.is_empty())
        .unwrap_or(reference);
    Change::CarryOver {
        from: action_ref(id, reference),
        to: action_ref(to_plan.trim(), to_ref),
        reason,
        forum: Some(forum.trim().to_owned()).filter(|f| !f.is_empty()),
    }
}

pub(super) fn action_ref(id: &str, reference: &str) -> ActionRef {
    ActionRef {
        plan: id.to_owned(),
        reference: reference.to_owned(),
    }
}
