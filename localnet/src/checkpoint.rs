//! A checkpoint of the running chain: its latest finalized block and the authorities that
//! produce and finalize the blocks after it, so that a client can start there instead of at
//! genesis (served as the `taoscope_checkpoint` JSON-RPC method).
//!
//! Substrate exports the same thing as `sync_state_genSyncSpec`, a chain spec with a
//! `lightSyncState`; smoldot reads that field for BABE chains only, and this chain (like
//! Bittensor) is Aura. So the checkpoint is a small versioned JSON object of its own: the trust
//! anchor the verified-RPC transport starts from (genesis hash, block, GRANDPA set id and
//! authorities), and the same facts as smoldot-light's database content, which that client
//! loads as its starting point (`AddChainConfig::database_content`).
//!
//! Whoever hands out a checkpoint is trusted for it: a client must get it from a source it
//! trusts, as it does the chain spec.

use crate::chain::{BLOCK_NUMBER_BYTES, Chain, ChainError};
use crate::runtime::Storage;
use parity_scale_codec::Decode;
use serde_json::{Value, json};
use smoldot::chain::chain_information::{
    ChainInformation, ChainInformationConsensus, ChainInformationFinality, ValidChainInformation,
};
use smoldot::header;
use std::num::NonZero;
use taoscope_light_client::hashing::twox_128;
use taoscope_light_client::hex::to_hex;

/// The version of the checkpoint format; a reader refuses versions it does not know.
pub const VERSION: u64 = 1;

/// The checkpoint at the chain's latest finalized block (on this chain, the best block).
pub fn checkpoint(chain: &Chain) -> Result<Value, ChainError> {
    let block = chain.best();
    let state = chain.state(block.number)?;
    let aura = aura_authorities(&state)?;
    // The set that finalizes the blocks after the checkpoint, as the headers made it (the
    // runtime's `CurrentSetId` runs ahead of it while a change is pending).
    let grandpa = &chain.voters().authorities;
    let set_id = chain.voters().set_id;
    let slot_ms = u64::try_from(chain.slot_duration().as_millis()).unwrap_or(u64::MAX);
    let information = ChainInformation {
        finalized_block_header: Box::new(
            header::decode(&block.header, BLOCK_NUMBER_BYTES)
                .map_err(|e| ChainError::Build(format!("our own header does not decode: {e}")))?
                .into(),
        ),
        consensus: ChainInformationConsensus::Aura {
            finalized_authorities_list: aura
                .iter()
                .map(|key| header::AuraAuthority { public_key: *key })
                .collect(),
            slot_duration: NonZero::new(slot_ms)
                .ok_or_else(|| ChainError::Build("the slot duration is zero".into()))?,
        },
        finality: ChainInformationFinality::Grandpa {
            after_finalized_block_authorities_set_id: set_id,
            finalized_triggered_authorities: grandpa
                .iter()
                .filter_map(|(key, weight)| {
                    Some(header::GrandpaAuthority {
                        public_key: *key,
                        weight: NonZero::new(*weight)?,
                    })
                })
                .collect(),
            // Scheduled changes are enacted at once on this chain: none is ever pending.
            finalized_scheduled_change: None,
        },
    };
    let valid = ValidChainInformation::try_from(information)
        .map_err(|e| ChainError::Build(format!("checkpoint: {e}")))?;
    Ok(json!({
        "version": VERSION,
        "genesisHash": to_hex(&chain.genesis().hash),
        "block": {
            "number": block.number,
            "hash": to_hex(&block.hash),
            "header": to_hex(&block.header),
        },
        "grandpa": {
            "setId": set_id,
            "authorities": grandpa
                .iter()
                .map(|(key, weight)| json!({ "publicKey": to_hex(key), "weight": weight }))
                .collect::<Vec<_>>(),
        },
        "aura": {
            "authorities": aura.iter().map(|key| to_hex(key)).collect::<Vec<_>>(),
            "slotDurationMs": slot_ms,
        },
        "smoldotDatabase": smoldot::database::finalized_serialize::encode_chain(
            &valid,
            BLOCK_NUMBER_BYTES,
        ),
    }))
}

/// `Aura::Authorities`: the sr25519 keys that author blocks.
fn aura_authorities(state: &Storage) -> Result<Vec<[u8; 32]>, ChainError> {
    let key = [twox_128(b"Aura"), twox_128(b"Authorities")].concat();
    let bytes = state.get(&key).map(|v| v.to_vec()).unwrap_or_default();
    Vec::<[u8; 32]>::decode(&mut &bytes[..])
        .map_err(|e| ChainError::Build(format!("Aura::Authorities: {e}")))
}
