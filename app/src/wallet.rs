//! Browser wallet extensions in this page (`window.injectedWeb3`): which ones are there, and the
//! accounts one lets taoscope see.
//!
//! Threat model: whatever sits under `injectedWeb3` (an extension, or a script of a page that
//! embeds us) is hostile until checked. Every field is type-checked before use; at most
//! [`MAX_WALLETS`] wallets and [`MAX_ACCOUNTS`] accounts are taken, a wallet whose name is over
//! [`MAX_NAME`] characters is left out (account names are cut), and an address is shown only
//! re-encoded (prefix 42) from the public key its checksum proves, never as given. ECDSA and
//! Ethereum accounts are left out: Bittensor accounts sign with sr25519 or ed25519.

use crate::embed::host::Host;
use js_sys::{Array, Function, Object, Promise, Reflect};
use taoscope_light_client::ss58;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

pub const MAX_WALLETS: usize = 16;
pub const MAX_ACCOUNTS: usize = 256;
pub const MAX_NAME: usize = 64;
/// How taoscope names itself to a wallet's `enable`.
pub const ORIGIN: &str = "taoscope";

/// Where a wallet is: in this page, or (in a widget frame that sees none) in the page that
/// embeds the widget, whose loader relays its answers (see [`crate::embed::host`]). Relayed
/// answers get the same checks as any wallet's.
#[derive(Clone, Copy)]
pub enum Where {
    Page,
    Host(Host),
}

/// A wallet by name, and where it is.
#[derive(Clone)]
pub struct WalletRef {
    pub name: String,
    pub place: Where,
}

impl WalletRef {
    pub fn local(name: impl Into<String>) -> WalletRef {
        WalletRef {
            name: name.into(),
            place: Where::Page,
        }
    }
}

/// The wallets of the page that embeds this widget frame, as its loader names them.
pub async fn host_wallets(host: Host) -> Result<Vec<String>, String> {
    let names = host.ask_wallet("wallets", "", None).await?;
    Ok(names
        .as_array()
        .ok_or("the embedding page's wallets are not a list")?
        .iter()
        .filter_map(|n| n.as_str())
        .filter(|n| n.chars().count() <= MAX_NAME)
        .take(MAX_WALLETS)
        .map(str::to_string)
        .collect())
}

/// A relayed answer as the JS value a wallet in this page would have given.
fn relayed(answer: serde_json::Value) -> Result<JsValue, String> {
    js_sys::JSON::parse(&answer.to_string())
        .map_err(|_| "the embedding page relayed an unreadable answer".to_string())
}

/// An account a wallet offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletAccount {
    /// SS58, prefix 42, re-encoded from the checked key.
    pub address: String,
    pub name: Option<String>,
}

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn injected() -> Option<JsValue> {
    get(&js_sys::global(), "injectedWeb3").filter(JsValue::is_object)
}

/// The names of the wallets injected into this page.
pub fn wallets() -> Vec<String> {
    let Some(injected) = injected() else {
        return Vec::new();
    };
    Object::keys(injected.unchecked_ref::<Object>())
        .iter()
        .filter_map(|k| k.as_string())
        // A name is how the wallet is found again: kept whole, or not at all.
        .filter(|name| name.chars().count() <= MAX_NAME)
        .filter(|name| get(&injected, name).is_some_and(|w| get(&w, "enable").is_some()))
        .take(MAX_WALLETS)
        .collect()
}

async fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, String> {
    let function: Function = get(target, method)
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| format!("the wallet has no {method}()"))?;
    let returned = function
        .apply(target, &args.iter().collect::<Array>())
        .map_err(|e| format!("{method}() failed: {}", describe(&e)))?;
    match returned.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .map_err(|e| format!("{method}() was refused: {}", describe(&e))),
        Err(value) => Ok(value),
    }
}

fn describe(error: &JsValue) -> String {
    error
        .as_string()
        .or_else(|| get(error, "message").and_then(|m| m.as_string()))
        .unwrap_or_else(|| "no reason given".into())
        .chars()
        .take(200)
        .collect()
}

/// Wallet `name`'s `enable(ORIGIN)`: the object it lets taoscope use (accounts, signer).
async fn enable(name: &str) -> Result<JsValue, String> {
    let wallet = injected()
        .and_then(|i| get(&i, name))
        .ok_or_else(|| format!("no wallet named {name} in this page"))?;
    call(&wallet, "enable", &[JsValue::from_str(ORIGIN)]).await
}

/// Asks `wallet` to let taoscope in, and for its accounts.
pub async fn connect(wallet: &WalletRef) -> Result<Vec<WalletAccount>, String> {
    let list = if let Where::Host(host) = wallet.place {
        relayed(host.ask_wallet("accounts", &wallet.name, None).await?)?
    } else {
        let enabled = enable(&wallet.name).await?;
        let accounts = get(&enabled, "accounts").ok_or("the wallet gave no accounts")?;
        call(&accounts, "get", &[]).await?
    };
    let list: Array = list
        .dyn_into()
        .map_err(|_| "the wallet's accounts are not a list".to_string())?;
    Ok(list
        .iter()
        .take(MAX_ACCOUNTS)
        .filter_map(|entry| {
            let kind = get(&entry, "type").and_then(|t| t.as_string());
            if matches!(kind.as_deref(), Some("ecdsa" | "ethereum")) {
                return None;
            }
            let given = get(&entry, "address")?.as_string()?;
            let (_, key) = ss58::decode_any(&given).ok()?;
            Some(WalletAccount {
                address: ss58::encode(&key, ss58::BITTENSOR_PREFIX),
                name: get(&entry, "name")
                    .and_then(|n| n.as_string())
                    .map(|n| n.chars().take(MAX_NAME).collect()),
            })
        })
        .collect())
}

/// What a wallet answered to `signPayload`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletSignature {
    /// Hex of a `MultiSignature`.
    pub signature: String,
    /// The signed transaction, when the wallet returned one (`withSignedTransaction`).
    pub signed_transaction: Option<String>,
}

/// Asks `wallet` to sign `payload` (a `SignerPayloadJSON`). Nothing it answers is trusted
/// here: the light worker checks the signature (and any returned transaction) against what it
/// prepared before it submits anything.
pub async fn sign(
    wallet: &WalletRef,
    payload: &serde_json::Value,
) -> Result<WalletSignature, String> {
    let answer = if let Where::Host(host) = wallet.place {
        relayed(host.ask_wallet("sign", &wallet.name, Some(payload)).await?)?
    } else {
        let enabled = enable(&wallet.name).await?;
        let signer = get(&enabled, "signer").ok_or("the wallet offers no signer")?;
        let payload = js_sys::JSON::parse(&payload.to_string())
            .map_err(|_| "the payload does not convert for the wallet".to_string())?;
        call(&signer, "signPayload", &[payload]).await?
    };
    let text = |key: &str| get(&answer, key).and_then(|v| v.as_string());
    Ok(WalletSignature {
        signature: text("signature").ok_or("the wallet answered without a signature")?,
        signed_transaction: text("signedTransaction"),
    })
}
