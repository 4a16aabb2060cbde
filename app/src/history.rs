//! Audited epochs kept in this browser (IndexedDB), so that a subnet's audit history survives a
//! reload: bounded per chain and subnet, the oldest dropped first.
//!
//! The store is a cache, and a cache is hostile until checked: what it gives back is shown as
//! "kept from an earlier visit", apart from what the light client proved in this session, and
//! never counted in a verdict. Entries are keyed by the chain's genesis hash, so a localnet
//! started again with other options (another genesis) never shows another chain's audits.

use js_sys::{Array, Promise};
use taoscope_light_client::audit::EpochAudit;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbKeyRange, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "taoscope";
const STORE: &str = "audits";
/// Epochs kept per chain and subnet.
pub const KEPT: usize = 64;

/// Waits for an IndexedDB request's success (its result) or error.
async fn done(request: &IdbRequest) -> Result<JsValue, String> {
    let promise = Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    });
    JsFuture::from(promise)
        .await
        .map_err(|_| "the browser's database refused the request".to_string())?;
    request
        .result()
        .map_err(|_| "the browser's database gave no result".into())
}

async fn open() -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .and_then(|w| w.indexed_db().ok().flatten())
        .ok_or("this browser keeps no IndexedDB")?;
    let request = factory
        .open_with_u32(DATABASE, 1)
        .map_err(|_| "IndexedDB cannot be opened")?;
    let upgrade = Closure::<dyn Fn(web_sys::Event)>::new(move |event: web_sys::Event| {
        let database = event
            .target()
            .and_then(|t| t.dyn_into::<IdbRequest>().ok())
            .and_then(|r| r.result().ok())
            .and_then(|d| d.dyn_into::<IdbDatabase>().ok());
        if let Some(database) = database {
            let _ = database.create_object_store(STORE);
        }
    });
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let database = done(&request).await?;
    drop(upgrade);
    database
        .dyn_into::<IdbDatabase>()
        .map_err(|_| "IndexedDB gave no database".into())
}

/// `[genesis, netuid, block]`: ordered so that one chain's subnet is one key range.
fn key(genesis: &str, netuid: u16, block: u64) -> JsValue {
    Array::of3(
        &JsValue::from_str(genesis),
        &JsValue::from(netuid),
        // Block numbers stay far below 2^53.
        &JsValue::from(block as f64),
    )
    .into()
}

fn range(genesis: &str, netuid: u16) -> Result<IdbKeyRange, String> {
    IdbKeyRange::bound(&key(genesis, netuid, 0), &key(genesis, netuid, u64::MAX))
        .map_err(|_| "IndexedDB refused a key range".into())
}

/// Keeps `epochs` (audited in this session) for chain `genesis`, dropping the oldest beyond
/// [`KEPT`] for each subnet.
pub async fn keep(genesis: &str, epochs: &[EpochAudit]) -> Result<(), String> {
    let Some(netuid) = epochs.first().map(|e| e.netuid) else {
        return Ok(());
    };
    let database = open().await?;
    let transaction = database
        .transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite)
        .map_err(|_| "IndexedDB refused a transaction")?;
    let store = transaction
        .object_store(STORE)
        .map_err(|_| "IndexedDB has no audit store")?;
    for epoch in epochs {
        let text = serde_json::to_string(epoch).map_err(|e| e.to_string())?;
        store
            .put_with_key(
                &JsValue::from_str(&text),
                &key(genesis, epoch.netuid, epoch.block.number),
            )
            .map_err(|_| "IndexedDB refused an epoch")?;
    }
    let keys = store
        .get_all_keys_with_key(&range(genesis, netuid)?.into())
        .map_err(|_| "IndexedDB refused to list keys")?;
    let keys: Array = done(&keys).await?.unchecked_into();
    let excess = (keys.length() as usize).saturating_sub(KEPT);
    for old in keys.iter().take(excess) {
        let _ = store.delete(&old);
    }
    Ok(())
}

/// The epochs of subnet `netuid` kept for chain `genesis`, newest first. Entries that do not
/// read as an audit, or that name another subnet or block than their key, are left out.
pub async fn kept(genesis: &str, netuid: u16) -> Result<Vec<EpochAudit>, String> {
    let database = open().await?;
    let transaction = database
        .transaction_with_str(STORE)
        .map_err(|_| "IndexedDB refused a transaction")?;
    let store = transaction
        .object_store(STORE)
        .map_err(|_| "IndexedDB has no audit store")?;
    let request = store
        .get_all_with_key(&range(genesis, netuid)?.into())
        .map_err(|_| "IndexedDB refused to read")?;
    let values: Array = done(&request).await?.unchecked_into();
    let mut epochs: Vec<EpochAudit> = values
        .iter()
        .filter_map(|v| v.as_string())
        .filter_map(|text| serde_json::from_str::<EpochAudit>(&text).ok())
        .filter(|e| e.netuid == netuid)
        .collect();
    epochs.sort_by_key(|e| std::cmp::Reverse(e.block.number));
    epochs.dedup_by_key(|e| e.block.number);
    epochs.truncate(KEPT);
    Ok(epochs)
}
