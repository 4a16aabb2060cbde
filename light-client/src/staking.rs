//! The staking moves a runtime offers, read from its metadata: which call carries each move and
//! what each argument is for a person typing it (an address, an amount in τ, a subnet, a flag).
//!
//! Runtimes change these calls: spec 103 has `add_stake(hotkey, amount_staked)`, today's runtime
//! `add_stake(hotkey, netuid, amount_staked)` and the limit variants (`add_stake_limit(…,
//! limit_price, allow_partial)`) that safe staking uses. So the moves are a list of intents, each
//! with the calls that carry it in order of preference (the limit variant first), and the
//! arguments are whatever the runtime in force says, classified by their type and name; nothing
//! here knows a call's shape.

use crate::metadata::Metadata;
use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};
use serde::{Deserialize, Serialize};

/// What an argument is, for the form that asks for it and the review that shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArgKind {
    /// An account, typed as SS58 (`AccountId32`, or a `MultiAddress` given by id).
    Account,
    /// An amount of TAO or alpha in rao (9 decimals).
    Amount,
    /// A subnet's number.
    Netuid,
    /// A limit price in rao per alpha: derived from the quote and the user's tolerance.
    LimitPrice,
    /// Yes or no.
    Flag,
    /// Any other whole number.
    Number,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arg {
    /// The name the metadata gives it (what the call is encoded by).
    pub name: String,
    pub kind: ArgKind,
}

/// One move as the runtime in force carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// What the person wants, in words ("Add stake").
    pub label: String,
    pub pallet: String,
    pub call: String,
    pub args: Vec<Arg>,
}

/// The moves, each with the calls that carry it, preferred first: the limit variants are safe
/// staking (the runtime refuses a price past the user's tolerance), so they come first.
const MOVES: &[(&str, &str, &[&str])] = &[
    (
        "Add stake",
        "SubtensorModule",
        &["add_stake_limit", "add_stake"],
    ),
    (
        "Remove stake",
        "SubtensorModule",
        &["remove_stake_limit", "remove_stake"],
    ),
    (
        "Unstake all",
        "SubtensorModule",
        &["remove_stake_full_limit", "unstake_all"],
    ),
    ("Move stake", "SubtensorModule", &["move_stake"]),
    (
        "Swap stake",
        "SubtensorModule",
        &["swap_stake_limit", "swap_stake"],
    ),
    ("Transfer stake", "SubtensorModule", &["transfer_stake"]),
    (
        "Transfer TAO",
        "Balances",
        &["transfer_keep_alive", "transfer_allow_death", "transfer"],
    ),
];

/// The moves `metadata`'s runtime offers, in [`MOVES`] order. An argument of a type this list
/// has no kind for leaves its move out: a form could not ask for it in words.
pub fn moves(metadata: &Metadata) -> Vec<Move> {
    MOVES
        .iter()
        .filter_map(|(label, pallet, calls)| {
            calls.iter().find_map(|call| {
                let info = metadata.call(pallet, call)?;
                let args = info
                    .fields
                    .iter()
                    .map(|(name, ty)| {
                        Some(Arg {
                            name: name.clone(),
                            kind: kind(&metadata.types, name, *ty)?,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(Move {
                    label: (*label).into(),
                    pallet: (*pallet).into(),
                    call: (*call).into(),
                    args,
                })
            })
        })
        .collect()
}

/// The kind of an argument named `name` of type `id`. Wrappers (one-field structs such as
/// `NetUid(u16)`, compact encodings) are looked through; the name tells a subnet from a count
/// and a price from an amount, as the types alone do not.
fn kind(types: &PortableRegistry, name: &str, id: u32) -> Option<ArgKind> {
    let ty = types.resolve(id)?;
    let last = ty.path.segments.last().map(String::as_str);
    if matches!(last, Some("AccountId32" | "MultiAddress")) {
        return Some(ArgKind::Account);
    }
    match &ty.type_def {
        TypeDef::Composite(c) if c.fields.len() == 1 => kind(types, name, c.fields[0].ty.id),
        TypeDef::Compact(c) => kind(types, name, c.type_param.id),
        TypeDef::Primitive(TypeDefPrimitive::Bool) => Some(ArgKind::Flag),
        TypeDef::Primitive(p) if is_unsigned(p) => Some(if name.contains("netuid") {
            ArgKind::Netuid
        } else if name.contains("price") {
            ArgKind::LimitPrice
        } else if matches!(p, TypeDefPrimitive::U64 | TypeDefPrimitive::U128) {
            ArgKind::Amount
        } else {
            ArgKind::Number
        }),
        _ => None,
    }
}

fn is_unsigned(p: &TypeDefPrimitive) -> bool {
    use TypeDefPrimitive as P;
    matches!(p, P::U8 | P::U16 | P::U32 | P::U64 | P::U128)
}
