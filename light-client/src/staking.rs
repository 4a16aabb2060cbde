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
    /// An amount of TAO in rao (9 decimals).
    Amount,
    /// An amount of a subnet's alpha in its smallest unit (9 decimals).
    Alpha,
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
                // Stake held per subnet is alpha: what a call with a netuid takes out of it.
                let per_subnet = info.fields.iter().any(|(name, _)| name.contains("netuid"));
                let args = info
                    .fields
                    .iter()
                    .map(|(name, ty)| {
                        let kind = match kind(&metadata.types, name, *ty, 0)? {
                            ArgKind::Amount if is_alpha(name, per_subnet) => ArgKind::Alpha,
                            kind => kind,
                        };
                        Some(Arg {
                            name: name.clone(),
                            kind,
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

/// Whether an amount argument is alpha: named so, or what is unstaked, moved or transferred
/// out of stake held per subnet (`amount_unstaked` of a call with a netuid).
fn is_alpha(name: &str, per_subnet: bool) -> bool {
    name.contains("alpha") || (per_subnet && name == "amount_unstaked")
}

/// Wrappers looked through at most this deep (a registry is the chain's word: a type that
/// wraps itself must not recurse for ever).
const MAX_DEPTH: usize = 8;

/// The kind of an argument named `name` of type `id`. Wrappers (one-field structs such as
/// `NetUid(u16)` or `AlphaCurrency(u64)`, compact encodings) are looked through; the wrapper's
/// name or the argument's tells a subnet from a count, alpha from TAO and a price from an
/// amount, as the integer types alone do not.
fn kind(types: &PortableRegistry, name: &str, id: u32, depth: usize) -> Option<ArgKind> {
    let ty = types.resolve(id)?;
    let last = ty.path.segments.last().map(String::as_str);
    // A price is τ per α whatever its type is called (today's `limit_price: TaoCurrency`).
    if name.contains("price") && !matches!(ty.type_def, TypeDef::Variant(_)) {
        return Some(ArgKind::LimitPrice);
    }
    match last {
        Some("AccountId32" | "MultiAddress") => return Some(ArgKind::Account),
        Some("AlphaCurrency") => return Some(ArgKind::Alpha),
        Some("TaoCurrency") => return Some(ArgKind::Amount),
        _ => {}
    }
    if depth >= MAX_DEPTH {
        return None;
    }
    match &ty.type_def {
        TypeDef::Composite(c) if c.fields.len() == 1 => {
            kind(types, name, c.fields[0].ty.id, depth + 1)
        }
        TypeDef::Compact(c) => kind(types, name, c.type_param.id, depth + 1),
        // An optional argument (`remove_stake_full_limit`'s `Option<u64>` limit) is asked as
        // its value: this form always gives one.
        TypeDef::Variant(v) if last == Some("Option") => {
            let some = v.variants.iter().find(|x| x.fields.len() == 1)?;
            kind(types, name, some.fields[0].ty.id, depth + 1)
        }
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
