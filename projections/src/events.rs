//! The domain events of Assure: what happened to a plan, an action or a challenge.
//!
//! Each kind has its own payload struct, encoded with the ledger's pinned bincode
//! codec; the header's `kind` string names the struct and `payload_schema` its layout
//! version. Changing a struct's fields or their order changes the bytes that were
//! hashed: add a new schema version instead (golden-byte tests guard this), and keep
//! the old layout in [`v1`] so that events already recorded still decode.

use bincode::{Decode, Encode};
use serde::Serialize;

use crate::timescale::Milestone;

/// The RAG status of an action, with the two extra colours plans use: Grey
/// (complete) and Blue (carried over to next year's plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Encode, Decode, Serialize)]
pub enum Rag {
    #[serde(rename = "green")]
    Green,
    #[serde(rename = "amber")]
    Amber,
    #[serde(rename = "red")]
    Red,
    #[serde(rename = "complete")]
    Complete,
    #[serde(rename = "carried-over")]
    CarriedOver,
    #[serde(rename = "not-started")]
    NotStarted,
}

impl Rag {
    pub const ALL: [Rag; 6] = [
        Rag::Green,
        Rag::Amber,
        Rag::Red,
        Rag::Complete,
        Rag::CarriedOver,
        Rag::NotStarted,
    ];

    /// The word used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Rag::Green => "green",
            Rag::Amber => "amber",
            Rag::Red => "red",
            Rag::Complete => "complete",
            Rag::CarriedOver => "carried-over",
            Rag::NotStarted => "not-started",
        }
    }

    /// The label people see beside the colour.
    pub fn label(self) -> &'static str {
        match self {
            Rag::Green => "Green",
            Rag::Amber => "Amber",
            Rag::Red => "Red",
            Rag::Complete => "Complete (Grey)",
            Rag::CarriedOver => "Carried over (Blue)",
            Rag::NotStarted => "Not started",
        }
    }

    pub fn parse(word: &str) -> Option<Rag> {
        Rag::ALL.into_iter().find(|rag| rag.as_str() == word)
    }
}

/// An evidence file attached to a progress note or a response, named by its BLAKE3.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct Evidence {
    /// The file name the user gave, for display only; never used as a path.
    pub name: String,
    #[serde(serialize_with = "hex_hash")]
    pub blake3: [u8; 32],
    pub bytes: u64,
}

fn hex_hash<S: serde::Serializer>(hash: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&ledger::hex::hex(hash))
}

/// Points at one action of one plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode, Serialize)]
pub struct ActionRef {
    pub plan: String,
    pub reference: String,
}

impl std::fmt::Display for ActionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.plan, self.reference)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct PlanCreated {
    pub title: String,
    pub period: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct PriorityAdded {
    /// The short key actions refer to, e.g. "6".
    pub key: String,
    pub title: String,
    /// What the plan says about the priority besides its title: its aim, its link to
    /// a strategic aim, its outcome (one line each, as the plan words them). Schema 2.
    pub description: String,
}

/// A column of an imported plan that no field of Assure holds ("Output",
/// "Resources required"), kept on the action under the plan's own header so that
/// nothing in the plan is lost.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ExtraField {
    pub header: String,
    pub text: String,
}

/// Everything that describes an action, as added, imported or carried in.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ActionDetails {
    pub priority_key: String,
    pub title: String,
    pub impact: String,
    pub outcome: String,
    pub leads: Vec<String>,
    /// The timescale exactly as written, always kept.
    pub timescale: String,
    /// Dates parsed from the timescale where possible.
    pub milestones: Vec<Milestone>,
    pub cross_refs: Vec<String>,
    /// The plan's columns that no field holds, in the plan's order. Schema 2.
    pub extras: Vec<ExtraField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ActionAdded {
    pub details: ActionDetails,
    /// The status the action had when it was added (e.g. from an imported plan).
    pub status: Rag,
    /// Evidence of progress already written in the imported plan.
    pub progress: String,
    /// Where it came from, e.g. `plan.csv row 7`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ActionAmended {
    pub title: Option<String>,
    pub leads: Option<Vec<String>>,
    /// A rebaselined timescale: the raw text and its milestones.
    pub timescale: Option<(String, Vec<Milestone>)>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct StatusChanged {
    pub status: Rag,
    pub rationale: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ProgressNoted {
    pub note: String,
    pub evidence: Vec<Evidence>,
}

/// On the source action: it was carried over into another plan.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct CarriedOver {
    pub to: ActionRef,
    pub reason: String,
    /// The board or forum that agreed it, if recorded.
    pub forum: Option<String>,
}

/// On the destination action: it arrived from an earlier plan (same batch as `CarriedOver`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct CarriedIn {
    pub from: ActionRef,
    pub details: ActionDetails,
    /// The status it arrives with: the source's, or Amber if the source said only "carried over".
    pub status: Rag,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ChallengeRaised {
    /// The partner agency challenged.
    pub to_agency: String,
    pub about: Vec<ActionRef>,
    pub text: String,
    /// Response due by (days since 1970), if set.
    pub response_due: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ChallengeResponded {
    pub text: String,
    pub evidence: Vec<Evidence>,
    /// The challenged agency, when someone outside it (the chair, the business
    /// manager) recorded its response on its behalf; `None` when the agency's own
    /// partner lead did. (Schema 2; schema 1 had no such field.)
    pub on_behalf_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ChallengeEscalated {
    pub to: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ChallengeClosed {
    pub outcome: String,
    pub impact: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ChallengeReopened {
    pub reason: String,
    /// A new date the response is due by (days since 1970), if set. (Schema 2.)
    pub response_due: Option<i32>,
}

/// A partner agency the board works with, registered once so that leads, challenges
/// and partner accounts name it the same way (`agency add`). Subject `agency/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct AgencyRegistered {
    /// Its full name ("Greater Manchester Police").
    pub name: String,
    /// Other names plans use for it ("GMP").
    pub aliases: Vec<String>,
}

/// The date a challenge's response is due by, set or moved (`challenge extend`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct ChallengeDueSet {
    /// Days since 1970.
    pub response_due: i32,
    pub reason: String,
}

/// How many days after it took effect an entry may be recorded before it is marked
/// late where an inspector looks (`assure late-after`). Subject `ledger`; the
/// default, before any is recorded, is `views::LATE_AFTER_DAYS`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct LateAfterSet {
    pub days: u16,
    pub reason: String,
}

/// What stays of an event whose words were erased (`redact`): its payload with
/// every free-text field replaced by a note of the erasure and no evidence, encoded
/// as an event of the erased event's kind in its latest layout. Appended under the
/// erased event's subject in the same batch as the `ledger.redacted` event, so every
/// view still lists the record — its ids, refs, dates and statuses — after the
/// erasure (`crate::erasure`).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize)]
pub struct StructureKept {
    /// The erased event.
    pub target_seq: u64,
    /// The layout `payload` is written in.
    pub schema: u16,
    /// The erased event's payload without its words.
    #[serde(skip)]
    pub payload: Vec<u8>,
}

/// Every domain event. The subject in the header says which plan, action or
/// challenge it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    PlanCreated(PlanCreated),
    PriorityAdded(PriorityAdded),
    ActionAdded(ActionAdded),
    ActionAmended(ActionAmended),
    StatusChanged(StatusChanged),
    ProgressNoted(ProgressNoted),
    CarriedOver(CarriedOver),
    CarriedIn(CarriedIn),
    ChallengeRaised(ChallengeRaised),
    ChallengeResponded(ChallengeResponded),
    ChallengeEscalated(ChallengeEscalated),
    ChallengeClosed(ChallengeClosed),
    ChallengeReopened(ChallengeReopened),
    ChallengeDueSet(ChallengeDueSet),
    AgencyRegistered(AgencyRegistered),
    /// Lawful erasure of an earlier event's payload (understood by the ledger too).
    Redacted(ledger::redaction::Redaction),
    StructureKept(StructureKept),
    LateAfterSet(LateAfterSet),
}

impl DomainEvent {
    /// The evidence files this event names, by BLAKE3.
    pub fn evidence(&self) -> Vec<[u8; 32]> {
        let files = match self {
            DomainEvent::ProgressNoted(e) => &e.evidence,
            DomainEvent::ChallengeResponded(e) => &e.evidence,
            _ => return Vec::new(),
        };
        files.iter().map(|f| f.blake3).collect()
    }
}

/// The first payload layout of every kind.
pub const SCHEMA_V1: u16 = 1;
/// The layout of the kinds that gained fields: `plan.priority_added` (a
/// description), `action.added` / `action.carried_in` (extra fields),
/// `challenge.responded` (on whose behalf) and `challenge.reopened` (a new due date).
pub const SCHEMA_V2: u16 = 2;

/// The layouts of schema 1, for the kinds that have a schema 2; read, never written
/// by the ledger. They derive `Encode` only so that the golden vectors
/// (`docs/vectors/payloads.json`) hold these layouts byte for byte too.
pub mod v1 {
    use bincode::{Decode, Encode};

    use super::{ActionRef, Milestone, Rag};

    #[derive(Debug, Encode, Decode)]
    pub struct PriorityAdded {
        pub key: String,
        pub title: String,
    }

    #[derive(Debug, Encode, Decode)]
    pub struct ActionDetails {
        pub priority_key: String,
        pub title: String,
        pub impact: String,
        pub outcome: String,
        pub leads: Vec<String>,
        pub timescale: String,
        pub milestones: Vec<Milestone>,
        pub cross_refs: Vec<String>,
    }

    #[derive(Debug, Encode, Decode)]
    pub struct ActionAdded {
        pub details: ActionDetails,
        pub status: Rag,
        pub progress: String,
        pub source: String,
    }

    #[derive(Debug, Encode, Decode)]
    pub struct ChallengeResponded {
        pub text: String,
        pub evidence: Vec<super::Evidence>,
    }

    #[derive(Debug, Encode, Decode)]
    pub struct ChallengeReopened {
        pub reason: String,
    }

    #[derive(Debug, Encode, Decode)]
    pub struct CarriedIn {
        pub from: ActionRef,
        pub details: ActionDetails,
        pub status: Rag,
        pub reason: String,
    }

    impl From<ActionDetails> for super::ActionDetails {
        fn from(d: ActionDetails) -> Self {
            super::ActionDetails {
                priority_key: d.priority_key,
                title: d.title,
                impact: d.impact,
                outcome: d.outcome,
                leads: d.leads,
                timescale: d.timescale,
                milestones: d.milestones,
                cross_refs: d.cross_refs,
                extras: Vec::new(),
            }
        }
    }

    /// Decodes a schema-1 payload of a kind that now has schema 2.
    pub fn decode(kind: &str, payload: &[u8]) -> Option<Result<super::DomainEvent, String>> {
        use super::DomainEvent as E;
        use ledger::codec::decode_payload;
        Some(match kind {
            "plan.priority_added" => decode_payload::<PriorityAdded>(payload).map(|p| {
                E::PriorityAdded(super::PriorityAdded {
                    key: p.key,
                    title: p.title,
                    description: String::new(),
                })
            }),
            "action.added" => decode_payload::<ActionAdded>(payload).map(|a| {
                E::ActionAdded(super::ActionAdded {
                    details: a.details.into(),
                    status: a.status,
                    progress: a.progress,
                    source: a.source,
                })
            }),
            "action.carried_in" => decode_payload::<CarriedIn>(payload).map(|c| {
                E::CarriedIn(super::CarriedIn {
                    from: c.from,
                    details: c.details.into(),
                    status: c.status,
                    reason: c.reason,
                })
            }),
            "challenge.responded" => decode_payload::<ChallengeResponded>(payload).map(|r| {
                E::ChallengeResponded(super::ChallengeResponded {
                    text: r.text,
                    evidence: r.evidence,
                    on_behalf_of: None,
                })
            }),
            "challenge.reopened" => decode_payload::<ChallengeReopened>(payload).map(|r| {
                E::ChallengeReopened(super::ChallengeReopened {
                    reason: r.reason,
                    response_due: None,
                })
            }),
            _ => return None,
        })
    }
}

macro_rules! kinds {
    ($($variant:ident => $kind:literal),* $(,)?) => {
        impl DomainEvent {
            /// Every kind's header `kind` string, in the order of the enum: each variant
            /// has one (the `match` in [`DomainEvent::kind`] is exhaustive), so a new
            /// kind cannot be missing here, nor from the tests that hold the docs and
            /// the golden vectors to this list.
            pub const KINDS: &'static [&'static str] = &[$($kind),*];

            /// The header `kind` string of this event.
            pub fn kind(&self) -> &'static str {
                match self { $(DomainEvent::$variant(_) => $kind,)* }
            }

            /// The payload layout this event is written in: the kind's latest.
            pub fn schema(&self) -> u16 {
                match self {
                    DomainEvent::PriorityAdded(_)
                    | DomainEvent::ActionAdded(_)
                    | DomainEvent::CarriedIn(_)
                    | DomainEvent::ChallengeResponded(_)
                    | DomainEvent::ChallengeReopened(_) => SCHEMA_V2,
                    _ => SCHEMA_V1,
                }
            }

            /// The payload bytes of this event (bincode 2, standard config).
            pub fn encode(&self) -> Vec<u8> {
                let encoded = match self {
                    $(DomainEvent::$variant(body) => ledger::codec::encode_payload(body),)*
                };
                // Encoding these plain structs into a Vec cannot fail; an empty payload
                // would be caught by `decode` on every read, never silently accepted.
                encoded.unwrap_or_default()
            }

            /// The payload as JSON, for people reading history and exports.
            pub fn body_json(&self) -> serde_json::Value {
                let value = match self {
                    $(DomainEvent::$variant(body) => serde_json::to_value(body),)*
                };
                value.unwrap_or(serde_json::Value::Null)
            }

            /// Decodes a payload by its header's kind and schema.
            pub fn decode(kind: &str, schema: u16, payload: &[u8]) -> Result<DomainEvent, String> {
                if schema == SCHEMA_V1 {
                    if let Some(decoded) = v1::decode(kind, payload) {
                        return decoded;
                    }
                }
                let current = match kind {
                    $($kind => ledger::codec::decode_payload(payload).map(DomainEvent::$variant),)*
                    other => return Err(format!("unknown event kind {other:?}")),
                };
                let event = current?;
                if event.schema() != schema {
                    return Err(format!("unknown payload schema {schema} for kind {kind}"));
                }
                Ok(event)
            }
        }
    };
}

kinds! {
    PlanCreated => "plan.created",
    PriorityAdded => "plan.priority_added",
    ActionAdded => "action.added",
    ActionAmended => "action.amended",
    StatusChanged => "action.status_changed",
    ProgressNoted => "action.progress_noted",
    CarriedOver => "action.carried_over",
    CarriedIn => "action.carried_in",
    ChallengeRaised => "challenge.raised",
    ChallengeResponded => "challenge.responded",
    ChallengeEscalated => "challenge.escalated",
    ChallengeClosed => "challenge.closed",
    ChallengeReopened => "challenge.reopened",
    ChallengeDueSet => "challenge.due_set",
    AgencyRegistered => "agency.registered",
    Redacted => "ledger.redacted",
    StructureKept => "record.structure_kept",
    LateAfterSet => "ledger.late_after_set",
}

/// Subjects: `plan/{id}`, `plan/{id}/action/{ref}`, `challenge/{id}`, `ledger`.
pub mod subject {
    pub fn plan(id: &str) -> String {
        format!("plan/{id}")
    }

    pub fn action(plan: &str, reference: &str) -> String {
        format!("plan/{plan}/action/{reference}")
    }

    pub fn challenge(id: &str) -> String {
        format!("challenge/{id}")
    }

    pub fn agency(id: &str) -> String {
        format!("agency/{id}")
    }

    pub const LEDGER: &str = "ledger";

    /// What a subject names.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Parsed<'a> {
        Plan(&'a str),
        Action(&'a str, &'a str),
        Challenge(&'a str),
        Agency(&'a str),
        Ledger,
        Other,
    }

    pub fn parse(subject: &str) -> Parsed<'_> {
        if subject == LEDGER {
            return Parsed::Ledger;
        }
        if let Some(id) = subject.strip_prefix("challenge/") {
            return Parsed::Challenge(id);
        }
        if let Some(id) = subject.strip_prefix("agency/") {
            return Parsed::Agency(id);
        }
        if let Some(rest) = subject.strip_prefix("plan/") {
            return match rest.split_once("/action/") {
                Some((plan, reference)) => Parsed::Action(plan, reference),
                None if !rest.contains('/') => Parsed::Plan(rest),
                None => Parsed::Other,
            };
        }
        Parsed::Other
    }
}
