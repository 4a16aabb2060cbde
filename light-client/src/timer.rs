//! Time in a browser page or Web Worker: `performance.now` and `setTimeout`, bound on the global
//! object so the same code serves a page and a worker.

use core::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &js_sys::Function, milliseconds: f64) -> JsValue;
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Milliseconds on the page's (or worker's) monotonic clock, `performance.now`.
pub fn now_ms() -> f64 {
    performance_now()
}

/// A promise that resolves after `duration` (`setTimeout`), as a future.
pub fn timeout(duration: Duration) -> JsFuture {
    let milliseconds = duration.as_secs_f64() * 1000.0;
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        // Browsers clamp delays above 2³¹ − 1 ms to 0; the longest waits here are minutes.
        set_timeout(&resolve, milliseconds.min(f64::from(i32::MAX)));
    });
    JsFuture::from(promise)
}

/// Waits `duration`.
pub async fn sleep(duration: Duration) {
    let _ = timeout(duration).await;
}
