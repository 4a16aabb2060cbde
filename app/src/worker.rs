//! The page's side of the epoch worker: start it, hold requests until it says it is ready, and
//! hand its answers to the page that owns it. Each page starts its own worker and stops it when
//! the page goes away, so a long benchmark never outlives the page that asked for it.

use crate::epoch_protocol::{WORKER_READY, WorkerRequest, WorkerResponse, ready_message};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

/// Where Trunk puts the worker's loader (see `app/index.html`).
// Absolute: the app answers deep links, where a relative URL would miss.
const WORKER_URL: &str = "/epoch-worker_loader.js";

/// The epoch worker and the requests that wait for it to finish starting.
pub struct EpochWorker {
    worker: Worker,
    ready: bool,
    waiting: Vec<String>,
}

/// A page's worker; `None` when the browser refused to start one.
pub type WorkerHandle = StoredValue<Option<EpochWorker>, LocalStorage>;

/// What a page hears back that is not an answer: the worker could not read an answer, or died.
pub const UNREADABLE: &str =
    "The epoch worker answered something unreadable; nothing is shown rather than a guess.";
pub const OTHER_BUILD: &str = "taoscope was updated in another tab, and this page is of the previous version: reload it to run epochs.";
pub const STOPPED: &str =
    "The epoch worker stopped with an error. Reload the page to start a new one.";

/// Starts a worker for the current page. `on_response` gets every answer; `on_failure` a
/// sentence for the user when the worker breaks.
pub fn spawn(
    on_response: impl Fn(WorkerResponse) + 'static,
    on_failure: impl Fn(String) + Clone + 'static,
) -> WorkerHandle {
    let handle: WorkerHandle = StoredValue::new_local(None);
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Classic);
    let Ok(worker) = Worker::new_with_options(WORKER_URL, &options) else {
        return handle;
    };
    let failure = on_failure.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().as_string();
        if let Some(ready) = text.as_deref().filter(|t| t.starts_with(WORKER_READY)) {
            if ready == ready_message() {
                handle.try_update_value(|w| {
                    if let Some(w) = w.as_mut() {
                        w.on_ready();
                    }
                });
            } else {
                failure(OTHER_BUILD.into());
            }
            return;
        }
        match text.and_then(|t| serde_json::from_str::<WorkerResponse>(&t).ok()) {
            Some(response) => on_response(response),
            None => failure(UNREADABLE.into()),
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |_| on_failure(STOPPED.into()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    let stop = worker.clone();
    on_cleanup(move || stop.terminate());
    handle.set_value(Some(EpochWorker {
        worker,
        ready: false,
        waiting: Vec::new(),
    }));
    handle
}

/// Sends `request`; `false` when there is no worker to send it to.
pub fn send(handle: WorkerHandle, request: &WorkerRequest) -> bool {
    let Ok(text) = serde_json::to_string(request) else {
        return false;
    };
    handle
        .try_update_value(|w| w.as_mut().is_some_and(|w| w.send(text)))
        .unwrap_or(false)
}

impl EpochWorker {
    fn send(&mut self, message: String) -> bool {
        if self.ready {
            self.worker
                .post_message(&JsValue::from_str(&message))
                .is_ok()
        } else {
            self.waiting.push(message);
            true
        }
    }

    fn on_ready(&mut self) {
        self.ready = true;
        for message in std::mem::take(&mut self.waiting) {
            let _ = self.worker.post_message(&JsValue::from_str(&message));
        }
    }
}
