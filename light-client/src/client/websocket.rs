//! JSON-RPC over the browser's `WebSocket` (a page or Web Worker): the one WebSocket client of the
//! browser code. `wss://` public endpoints, or `ws://` on loopback and plain-http pages (the
//! browser forbids `ws://` from https). Every answer is held to [`Limits`]: larger ones are
//! refused before they are copied out of the browser's string, slower ones given up on; a
//! message nobody asked for (one request, one answer) closes the connection, so an endpoint
//! cannot pile messages up in the worker's memory.

use super::endpoints::{Connection, FetchError, Limits};
use crate::timer::{now_ms, sleep};
use futures_channel::mpsc;
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, WebSocket};

enum Event {
    Open,
    Message(String),
    Closed(String),
    TooLarge,
}

pub struct BrowserConnection {
    socket: WebSocket,
    limits: Limits,
    /// Whether an answer is awaited (one request, one answer).
    awaiting: Rc<Cell<bool>>,
    events: mpsc::UnboundedReceiver<Event>,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(web_sys::CloseEvent)>,
}

impl Drop for BrowserConnection {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

impl BrowserConnection {
    /// The next event, or a timeout.
    async fn next_event(&mut self) -> Result<Event, FetchError> {
        let timer = Box::pin(sleep(Duration::from_millis(self.limits.answer_timeout_ms)));
        match select(self.events.next(), timer).await {
            Either::Left((Some(event), _)) => Ok(event),
            Either::Left((None, _)) => Err(FetchError::Connection("the socket is gone".into())),
            Either::Right(_) => Err(FetchError::Timeout),
        }
    }
}

impl Connection for BrowserConnection {
    async fn open(url: &str, limits: Limits) -> Result<Self, FetchError> {
        let socket = WebSocket::new(url).map_err(|e| {
            let why = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "the browser refused to open it".into());
            FetchError::Connection(format!("{url}: {why}"))
        })?;
        let (sender, events) = mpsc::unbounded();
        let awaiting = Rc::new(Cell::new(false));
        let on_open = {
            let sender = sender.clone();
            Closure::<dyn FnMut()>::new(move || {
                let _ = sender.unbounded_send(Event::Open);
            })
        };
        let on_message = {
            let sender = sender.clone();
            let awaiting = awaiting.clone();
            let socket = socket.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let data = event.data();
                let event = if !awaiting.replace(false) {
                    Event::Closed("the endpoint sent a message nobody asked for".into())
                } else if let Some(text) = data.dyn_ref::<js_sys::JsString>() {
                    // UTF-16 units: at least one byte each, so this bounds the copy.
                    if text.length() as usize > limits.max_answer_bytes {
                        Event::TooLarge
                    } else {
                        Event::Message(String::from(text))
                    }
                } else {
                    Event::Closed("the endpoint sent a binary message".into())
                };
                if !matches!(event, Event::Message(_)) {
                    // Nothing more is read from it.
                    let _ = socket.close();
                }
                let _ = sender.unbounded_send(event);
            })
        };
        let on_close =
            Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |event: web_sys::CloseEvent| {
                let _ = sender.unbounded_send(Event::Closed(format!(
                    "the connection closed (code {})",
                    event.code()
                )));
            });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut connection = BrowserConnection {
            socket,
            limits,
            awaiting,
            events,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        };
        match connection.next_event().await? {
            Event::Open => Ok(connection),
            Event::Closed(why) => Err(FetchError::Connection(format!("{url}: {why}"))),
            Event::Message(_) | Event::TooLarge => Err(FetchError::Garbled(
                "a message before the socket opened".into(),
            )),
        }
    }

    async fn exchange(&mut self, request: &str) -> Result<String, FetchError> {
        self.awaiting.set(true);
        self.socket
            .send_with_str(request)
            .map_err(|_| FetchError::Connection("the socket refused to send".into()))?;
        match self.next_event().await? {
            Event::TooLarge => Err(FetchError::TooLarge {
                limit: self.limits.max_answer_bytes,
            }),
            Event::Message(text) if text.len() > self.limits.max_answer_bytes => {
                Err(FetchError::TooLarge {
                    limit: self.limits.max_answer_bytes,
                })
            }
            Event::Message(text) => Ok(text),
            Event::Closed(why) => Err(FetchError::Connection(why)),
            Event::Open => Err(FetchError::Garbled("the socket opened twice".into())),
        }
    }

    async fn sleep(ms: u64) {
        sleep(Duration::from_millis(ms)).await;
    }

    fn now_ms() -> u64 {
        now_ms() as u64
    }
}
