//! A widget frame's messages with the page that embeds it (through `public/widgets.js`, the
//! loader): the frame's height, its events, and the relay to wallets that inject only into the
//! top frame.
//!
//! Threat model: the host page is hostile. It can post anything to the frame, from any of its
//! windows, and it reads everything the frame posts to it. So:
//! - The frame posts only what a host may know (its height, values it verified and their block,
//!   the hash of a transaction it sent, errors, how many messages it refused), and only to the
//!   origin of the page that embeds it: the browser's `location.ancestorOrigins`, which the host
//!   cannot set (its referrer where the browser has no such list).
//! - A message is taken only from the parent window, of that origin, as a JSON string of this
//!   protocol ([`PROTOCOL`]) no longer than [`MAX_MESSAGE`], of a known type, with fields of the
//!   right types, answering a request the frame asked and that is not answered yet. Anything else
//!   changes nothing; what comes from the parent or poses as this protocol is counted, shown in
//!   the widget and reported to the host (`rejected`, sparsely under a flood); other windows'
//!   traffic (a wallet talking to its own page script) is left alone.
//! - A wallet's answer relayed by the host gets the checks any wallet's answer gets: accounts are
//!   re-encoded from their checksummed keys, and the light worker checks a signature against the
//!   payload it prepared and the account before anything is sent. The user reviews the decoded
//!   call inside the frame, where the host cannot change it. A host that signs something else, or
//!   for another account, has its transaction refused.

use futures_channel::oneshot;
use futures_util::future::{self, Either};
use leptos::prelude::*;
use std::collections::BTreeMap;
use std::pin::pin;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::MessageEvent;

/// Names every message of the widget protocol, both ways.
pub const PROTOCOL: &str = "taoscope-widget/v1";
/// Longer messages are refused unread (a signed transaction is well under this).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// How long the host has to say which wallets it has: a page that embeds the frame without the
/// loader never answers.
const WALLETS_WAIT: Duration = Duration::from_secs(3);

type Waiting = BTreeMap<u32, oneshot::Sender<Result<serde_json::Value, String>>>;

/// The frame's link to its host page. Cheap to copy.
#[derive(Clone, Copy)]
pub struct Host {
    /// The host page's origin; `None` when the frame is not embedded (opened on its own).
    origin: StoredValue<Option<String>>,
    next: StoredValue<u32>,
    waiting: StoredValue<Waiting, LocalStorage>,
    /// Messages refused, and why the last one was.
    pub rejected: RwSignal<u32>,
    pub last_rejected: RwSignal<Option<String>>,
}

impl Host {
    /// Starts listening to the host page. Call once, in the frame's root.
    pub fn provide() -> Host {
        let host = Host {
            origin: StoredValue::new(host_origin()),
            next: StoredValue::new(0),
            waiting: StoredValue::new_local(BTreeMap::new()),
            rejected: RwSignal::new(0),
            last_rejected: RwSignal::new(None),
        };
        let on_message =
            Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| host.receive(&event));
        if let Some(window) = web_sys::window() {
            let _ = window
                .add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        }
        on_message.forget(); // lives as long as the frame
        provide_context(host);
        host
    }

    /// Whether a page embeds this frame.
    pub fn embedded(self) -> bool {
        self.origin.with_value(Option::is_some)
    }

    /// The embedding page's origin, when embedded.
    pub fn origin(self) -> Option<String> {
        self.origin.get_value()
    }

    /// Tells the host an error, in words (cut to what the loader takes).
    pub fn error(self, message: &str) {
        let message: String = message.chars().take(500).collect();
        self.post("error", serde_json::json!({ "message": message }));
    }

    /// Posts `kind` with `fields` to the host page (nothing when the frame is not embedded).
    pub fn post(self, kind: &str, fields: serde_json::Value) {
        let Some(origin) = self.origin.get_value() else {
            return;
        };
        let mut message = serde_json::json!({ "taoscope": PROTOCOL, "type": kind });
        if let (Some(all), serde_json::Value::Object(more)) = (message.as_object_mut(), fields) {
            all.extend(more);
        }
        if let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) {
            let _ = parent.post_message(&JsValue::from_str(&message.to_string()), &origin);
        }
    }

    /// Asks the host's loader for wallet operation `op` ("wallets", "accounts", "sign").
    pub async fn ask_wallet(
        self,
        op: &str,
        wallet: &str,
        payload: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        if !self.embedded() {
            return Err("this widget is not embedded in a page: there is no wallet to ask".into());
        }
        let id = self.next.get_value().wrapping_add(1);
        self.next.set_value(id);
        let (answer_in, answer) = oneshot::channel();
        self.waiting.update_value(|w| {
            w.insert(id, answer_in);
        });
        self.post(
            "wallet",
            serde_json::json!({ "id": id, "op": op, "wallet": wallet, "payload": payload }),
        );
        let gone = || "the page embedding this widget stopped answering".to_string();
        if op == "wallets" {
            let timeout = taoscope_light_client::platform::browser::sleep(WALLETS_WAIT);
            return match future::select(answer, pin!(timeout)).await {
                Either::Left((answer, _)) => answer.map_err(|_| gone())?,
                Either::Right(_) => {
                    self.waiting.update_value(|w| {
                        w.remove(&id);
                    });
                    Err("the page embedding this widget offers no wallet (it does not run taoscope's widgets.js)".into())
                }
            };
        }
        answer.await.map_err(|_| gone())?
    }

    fn receive(self, event: &MessageEvent) {
        match self.take(event) {
            Ok(()) | Err(Refused::Unrelated) => {}
            Err(Refused::Because(why)) => {
                self.rejected.update(|n| *n += 1);
                self.last_rejected.set(Some(why.to_string()));
                // A flood is counted whole and reported sparsely (1 to 16, then each power of 2).
                let count = self.rejected.get_untracked();
                if count <= 16 || count.is_power_of_two() {
                    self.post(
                        "rejected",
                        serde_json::json!({ "count": count, "why": why }),
                    );
                }
            }
        }
    }

    /// Takes a wallet answer from the host, or says why `event` is refused.
    fn take(self, event: &MessageEvent) -> Result<(), Refused> {
        if !self.embedded() {
            return Err(Refused::Unrelated); // opened on its own: no host, nothing to answer
        }
        let parent = web_sys::window()
            .and_then(|w| w.parent().ok().flatten())
            .map(JsValue::from);
        let from_parent = matches!((event.source(), parent), (Some(source), Some(parent))
            if js_sys::Object::is(source.as_ref(), &parent));
        let text = event.data().as_string();
        if !from_parent {
            // Other windows talk among themselves (a wallet with its page script in this very
            // frame): only what poses as this protocol is a forgery worth counting.
            let poses = text
                .as_deref()
                .is_some_and(|t| t.len() <= MAX_MESSAGE && t.contains(PROTOCOL));
            return Err(if poses {
                Refused::Because("a message from a window other than the embedding page")
            } else {
                Refused::Unrelated
            });
        }
        if self.origin.get_value().as_deref() != Some(event.origin().as_str()) {
            return Err(Refused::Because(
                "a message from another origin than the embedding page's",
            ));
        }
        let text = text.ok_or(Refused::Because("a message that is not text"))?;
        if text.len() > MAX_MESSAGE {
            return Err(Refused::Because("a message over the size limit"));
        }
        let message: serde_json::Value = serde_json::from_str(&text)
            .map_err(|_| Refused::Because("a message that is not JSON"))?;
        if message["taoscope"] != PROTOCOL || message["type"] != "wallet-answer" {
            return Err(Refused::Because("a message of another protocol or type"));
        }
        let id = message["id"]
            .as_u64()
            .and_then(|id| u32::try_from(id).ok())
            .ok_or(Refused::Because("a wallet answer without an id"))?;
        let answer = match (message.get("ok"), message["error"].as_str()) {
            (Some(ok), None) => Ok(ok.clone()),
            (None, Some(why)) => Err(why.chars().take(200).collect()),
            _ => {
                return Err(Refused::Because(
                    "a wallet answer with neither a value nor an error",
                ));
            }
        };
        let waiting = self
            .waiting
            .try_update_value(|w| w.remove(&id))
            .flatten()
            .ok_or(Refused::Because("a wallet answer to no question asked"))?;
        let _ = waiting.send(answer);
        Ok(())
    }
}

/// Why a message was not taken.
enum Refused {
    /// Not addressed to this protocol at all (another script's traffic): not counted.
    Unrelated,
    Because(&'static str),
}

/// The origin of the page embedding this frame, if any.
pub fn host_origin() -> Option<String> {
    let window = web_sys::window()?;
    let parent = window.parent().ok().flatten()?;
    if js_sys::Object::is(&JsValue::from(parent), &JsValue::from(window.clone())) {
        return None; // the top frame
    }
    // Not in web-sys (nor in every browser): read as a plain property.
    let nearest = js_sys::Reflect::get(&window.location(), &JsValue::from_str("ancestorOrigins"))
        .ok()
        .filter(|list| !list.is_undefined() && !list.is_null())
        .and_then(|list| js_sys::Reflect::get(&list, &JsValue::from(0)).ok())
        .and_then(|o| o.as_string());
    if let Some(origin) = nearest {
        return (origin != "null").then_some(origin);
    }
    let referrer = window.document()?.referrer();
    web_sys::Url::new(&referrer)
        .ok()
        .map(|u| u.origin())
        .filter(|o| o != "null")
}
