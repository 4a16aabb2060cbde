//! The epoch worker: receives an [`EpochRequest`] as a JSON string, answers an [`EpochResponse`].
//! Running here keeps the page responsive while a large subnet's epoch is computed.

use taoscope_app::epoch_protocol::{EpochRequest, EpochResponse, WORKER_READY, run_request};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    console_error_panic_hook::set_once();
    let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() else {
        return; // loaded outside a worker: nothing to serve
    };
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let response = match event
            .data()
            .as_string()
            .map(|text| serde_json::from_str::<EpochRequest>(&text))
        {
            Some(Ok(request)) => {
                let performance = reply_scope.performance();
                run_request(&request, || performance.as_ref().map_or(0.0, |p| p.now()))
            }
            _ => EpochResponse {
                id: 0,
                result: Err("the worker received a message it cannot read".into()),
            },
        };
        if let Ok(text) = serde_json::to_string(&response) {
            let _ = reply_scope.post_message(&JsValue::from_str(&text));
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // lives as long as the worker
    let _ = scope.post_message(&JsValue::from_str(WORKER_READY));
}
