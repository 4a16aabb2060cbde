//! A JSON-RPC client over the browser's WebSocket: requests by id, each answered through a
//! promise that the socket's message handler resolves.
//!
//! It fetches; it does not verify. What it returns is whatever the endpoint said, and the code
//! that shows it must say so until the light client (or a proof check) stands behind it.

use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, WebSocket};

type Pending = Rc<RefCell<HashMap<u64, js_sys::Function>>>;

pub struct RpcClient {
    socket: WebSocket,
    pending: Pending,
    next_id: RefCell<u64>,
    url: String,
    // The handlers live as long as the client.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut()>,
}

impl Drop for RpcClient {
    fn drop(&mut self) {
        // The handlers go with the client: detach them first, or the close event would call a
        // dropped closure.
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

/// Words for a socket that would not open: the browser says nothing more than "error".
fn unreachable(url: &str) -> String {
    format!(
        "cannot reach {url}: is the node running there (for the localnet: `./scripts/run` or \
         `taoscope-localnet --dir DIR`), and is the address right? An https page may only open \
         wss:// addresses."
    )
}

impl RpcClient {
    pub async fn connect(url: &str) -> Result<Self, String> {
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(format!(
                "{url}: a JSON-RPC endpoint is a ws:// or wss:// address"
            ));
        }
        let socket = WebSocket::new(url).map_err(|_| unreachable(url))?;
        let opened = js_sys::Promise::new(&mut |resolve, reject| {
            socket.set_onopen(Some(&resolve));
            socket.set_onerror(Some(&reject));
        });
        JsFuture::from(opened).await.map_err(|_| unreachable(url))?;
        socket.set_onopen(None);
        socket.set_onerror(None);

        let pending: Pending = Rc::default();
        let answers = pending.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            let Ok(message) = serde_json::from_str::<Value>(&text) else {
                return;
            };
            let Some(id) = message.get("id").and_then(Value::as_u64) else {
                return; // a subscription notification; none are asked for here
            };
            if let Some(resolve) = answers.borrow_mut().remove(&id) {
                let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(&text));
            }
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // A closed socket answers every waiting request with an error.
        let orphans = pending.clone();
        let on_close = Closure::<dyn FnMut()>::new(move || {
            for (_, resolve) in orphans.borrow_mut().drain() {
                let closed = json!({"error": {"code": -1, "message": "the connection closed"}});
                let _ = resolve.call1(&JsValue::NULL, &JsValue::from_str(&closed.to_string()));
            }
        });
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            socket,
            pending,
            next_id: RefCell::new(1),
            url: url.to_string(),
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    /// The `result` of `method(params)`, or the endpoint's error in words.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        let id = {
            let mut next = self.next_id.borrow_mut();
            let id = *next;
            *next += 1;
            id
        };
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let pending = self.pending.clone();
        let answer = js_sys::Promise::new(&mut |resolve, _reject| {
            pending.borrow_mut().insert(id, resolve);
        });
        self.socket
            .send_with_str(&request.to_string())
            .map_err(|_| format!("{}: the connection is closed", self.url))?;
        let text = JsFuture::from(answer)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .ok_or_else(|| format!("{method}: no answer from {}", self.url))?;
        let message: Value =
            serde_json::from_str(&text).map_err(|e| format!("{method}: not JSON-RPC: {e}"))?;
        if let Some(error) = message.get("error") {
            let words = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error");
            return Err(format!("{method}: {words}"));
        }
        Ok(message.get("result").cloned().unwrap_or(Value::Null))
    }
}
