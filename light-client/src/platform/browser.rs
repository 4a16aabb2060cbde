//! smoldot-light's platform in a browser page or Web Worker: WebSocket connections, `setTimeout`
//! timers, `performance.now` and `Date.now` clocks, `crypto.getRandomValues` and
//! `spawn_local` tasks.
//!
//! wasm32 in a browser is single-threaded, while smoldot-light's `PlatformRef` asks for `Send`
//! types (its native platform runs tasks on threads). JavaScript objects are not `Send`, so they
//! travel in [`SendWrapper`]s, which check on every access that they are still on the thread
//! that made them; on one thread that check always holds.
//!
//! A WebSocket carries whole messages, smoldot-light a byte stream: received messages are
//! appended to a buffer that smoldot reads from, and what smoldot writes is sent as one binary
//! message per buffer. A browser WebSocket cannot half-close, so smoldot closing its writing
//! side closes the socket.

use core::fmt;
use core::future::Future;
use core::ops::{Add, Sub};
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use core::time::Duration;
use futures_util::future::{self, BoxFuture};
use send_wrapper::SendWrapper;
use smoldot_light::platform::{
    Address, ConnectionType, LogLevel, MultiStreamAddress, MultiStreamWebRtcConnection,
    PlatformRef, SubstreamDirection, read_write::ReadWrite,
};
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BinaryType, MessageEvent, WebSocket};

/// Bytes smoldot may queue on one connection before it waits for the socket to drain.
const WRITE_WINDOW: u32 = 256 * 1024;

/// The platform. Cheap to clone; holds only what it reports about itself.
#[derive(Clone, Debug)]
pub struct BrowserPlatform {
    /// Whether the page is served over https: such a page may open only `wss://` sockets
    /// (and `ws://` to this machine), so smoldot must not try plain ones elsewhere.
    secure_page: bool,
    /// Log smoldot's debug messages too (the page's `?log=debug`), not only its warnings.
    verbose: bool,
}

impl BrowserPlatform {
    /// `secure_page`: the page's origin is https. `verbose`: smoldot's debug logs on the console.
    pub fn new(secure_page: bool, verbose: bool) -> Self {
        BrowserPlatform {
            secure_page,
            verbose,
        }
    }
}

/// Monotonic time since the page (or worker) started, from `performance.now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(Duration);

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_add(rhs))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.0.saturating_sub(rhs.0)
    }
}

fn now() -> Instant {
    let milliseconds = crate::timer::now_ms();
    // `performance.now` is non-negative and finite; anything else reads as the start.
    Instant(Duration::try_from_secs_f64(milliseconds / 1000.0).unwrap_or_default())
}

/// A timer: resolves once `setTimeout` fires.
pub struct Delay(SendWrapper<JsFuture>);

impl Future for Delay {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut *self.0).poll(cx).map(|_| ())
    }
}

pub use crate::timer::now_ms;

/// A `setTimeout` timer that smoldot-light can hold (`Send`, on this one thread).
pub fn sleep(duration: Duration) -> Delay {
    Delay(SendWrapper::new(crate::timer::timeout(duration)))
}

/// A socket's state, shared between its JavaScript event handlers and smoldot's stream.
struct Socket {
    /// `None` for a connection the browser refused to open.
    ws: Option<WebSocket>,
    open: bool,
    /// Received and not yet handed to smoldot.
    incoming: Vec<u8>,
    /// The remote closed (or the socket failed): nothing more will arrive.
    read_closed: bool,
    error: Option<String>,
    /// Counts every event, so that a stream knows whether anything happened since it last
    /// looked.
    events: u64,
    waker: Option<Waker>,
}

impl Socket {
    fn notify(&mut self) {
        self.events = self.events.wrapping_add(1);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// The event handlers of one socket; dropping them detaches them first.
struct Handlers {
    ws: WebSocket,
    _open: Closure<dyn FnMut()>,
    _message: Closure<dyn FnMut(MessageEvent)>,
    _close: Closure<dyn FnMut(web_sys::CloseEvent)>,
    _error: Closure<dyn FnMut()>,
}

impl Drop for Handlers {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close();
    }
}

/// One connection as smoldot-light sees it.
pub struct Stream {
    socket: SendWrapper<Rc<RefCell<Socket>>>,
    /// Kept for its `Drop`, which detaches the handlers and closes the socket.
    _handlers: Option<SendWrapper<Handlers>>,
    /// Why the connection cannot be used, once known (read by `read_write_access`).
    error: Option<String>,
    write_closed: bool,
    /// The `events` count at the last access: more means something happened since.
    seen_events: u64,
    /// When smoldot wants to run again even if nothing arrives.
    wake_up_after: Option<Instant>,
    accessed: bool,
}

fn failed(error: String) -> Stream {
    Stream {
        socket: SendWrapper::new(Rc::new(RefCell::new(Socket {
            ws: None,
            open: false,
            incoming: Vec::new(),
            read_closed: true,
            error: Some(error.clone()),
            events: 0,
            waker: None,
        }))),
        _handlers: None,
        error: Some(error),
        write_closed: true,
        seen_events: 0,
        wake_up_after: None,
        accessed: false,
    }
}

fn connect(url: &str) -> Stream {
    let ws = match WebSocket::new(url) {
        Ok(ws) => ws,
        Err(error) => {
            let why = error
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "the browser refused to open it".into());
            return failed(format!("{url}: {why}"));
        }
    };
    ws.set_binary_type(BinaryType::Arraybuffer);
    let socket = Rc::new(RefCell::new(Socket {
        ws: Some(ws.clone()),
        open: false,
        incoming: Vec::new(),
        read_closed: false,
        error: None,
        events: 0,
        waker: None,
    }));
    // Handlers hold the socket weakly: the stream owns it, and dropping the stream ends it.
    let weak = Rc::downgrade(&socket);
    let on_open = Closure::<dyn FnMut()>::new(move || {
        if let Some(socket) = weak.upgrade() {
            let mut socket = socket.borrow_mut();
            socket.open = true;
            socket.notify();
        }
    });
    let weak = Rc::downgrade(&socket);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(socket) = weak.upgrade() else {
            return;
        };
        let mut socket = socket.borrow_mut();
        match event.data().dyn_into::<js_sys::ArrayBuffer>() {
            Ok(buffer) => {
                let bytes = js_sys::Uint8Array::new(&buffer);
                let start = socket.incoming.len();
                let length = bytes.length() as usize;
                socket.incoming.resize(start + length, 0);
                if let Some(target) = socket.incoming.get_mut(start..) {
                    bytes.copy_to(target);
                }
            }
            // libp2p over WebSocket is binary; a text message is a peer that is not one.
            Err(_) => socket.error = Some("the peer sent a text message".into()),
        }
        socket.notify();
    });
    let weak = Rc::downgrade(&socket);
    let on_close =
        Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |event: web_sys::CloseEvent| {
            let Some(socket) = weak.upgrade() else {
                return;
            };
            let mut socket = socket.borrow_mut();
            // A WebSocket closes both ways at once: report it as the end of the connection, not as
            // a half-close, or smoldot would keep the peer (and requests to it) until its timeouts.
            if socket.error.is_none() {
                socket.error = Some(if socket.open {
                    format!("the peer closed the connection (code {})", event.code())
                } else {
                    format!(
                        "could not connect (WebSocket closed with code {})",
                        event.code()
                    )
                });
            }
            socket.read_closed = true;
            socket.notify();
        });
    let weak = Rc::downgrade(&socket);
    let on_error = Closure::<dyn FnMut()>::new(move || {
        if let Some(socket) = weak.upgrade() {
            let mut socket = socket.borrow_mut();
            // The browser tells nothing more than "error"; the close event that follows has
            // the code.
            socket.read_closed = true;
            socket.notify();
        }
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    Stream {
        socket: SendWrapper::new(socket),
        _handlers: Some(SendWrapper::new(Handlers {
            ws,
            _open: on_open,
            _message: on_message,
            _close: on_close,
            _error: on_error,
        })),
        error: None,
        write_closed: false,
        seen_events: 0,
        wake_up_after: None,
        accessed: false,
    }
}

/// Bytes sent by smoldot that the browser has not yet put on the wire.
fn buffered(socket: &Socket) -> u32 {
    socket.ws.as_ref().map_or(0, WebSocket::buffered_amount)
}

/// smoldot's view of a stream for one round of reading and writing; what it consumed and
/// wrote is applied to the socket when dropped.
pub struct StreamAccess<'a> {
    stream: &'a mut Stream,
    read_write: ReadWrite<Instant>,
}

impl core::ops::Deref for StreamAccess<'_> {
    type Target = ReadWrite<Instant>;
    fn deref(&self) -> &ReadWrite<Instant> {
        &self.read_write
    }
}

impl core::ops::DerefMut for StreamAccess<'_> {
    fn deref_mut(&mut self) -> &mut ReadWrite<Instant> {
        &mut self.read_write
    }
}

impl Drop for StreamAccess<'_> {
    fn drop(&mut self) {
        let mut socket = self.stream.socket.borrow_mut();
        // Nothing can arrive while this runs (one thread), so what smoldot left is all there is.
        socket.incoming = core::mem::take(&mut self.read_write.incoming_buffer);
        let mut wrote = false;
        for buffer in self.read_write.write_buffers.drain(..) {
            if buffer.is_empty() {
                continue;
            }
            wrote = true;
            let sent = socket.ws.as_ref().map(|ws| ws.send_with_u8_array(&buffer));
            if !matches!(sent, Some(Ok(()))) {
                socket.error = Some("the connection closed while sending".into());
            }
        }
        if self.read_write.write_bytes_queueable.is_none() && !self.stream.write_closed {
            self.stream.write_closed = true;
            if let Some(ws) = &socket.ws {
                let _ = ws.close();
            }
        }
        self.stream.wake_up_after = self.read_write.wake_up_after;
        // Progress made: let smoldot run again at once, it may have more to do.
        if wrote || self.read_write.read_bytes > 0 {
            self.stream.wake_up_after = Some(self.read_write.now);
        }
        // A full write window drains without an event: look again soon.
        if socket.open && buffered(&socket) >= WRITE_WINDOW {
            let soon = self.read_write.now + Duration::from_millis(10);
            self.stream.wake_up_after = Some(match self.stream.wake_up_after.take() {
                Some(when) if when < soon => when,
                _ => soon,
            });
        }
        self.stream.seen_events = socket.events;
    }
}

/// smoldot-light's `MultiStream` (WebRTC), which this platform does not offer.
pub enum NoMultiStream {}

impl PlatformRef for BrowserPlatform {
    type Delay = Delay;
    type Instant = Instant;
    type MultiStream = NoMultiStream;
    type Stream = Stream;
    type ReadWriteAccess<'a> = StreamAccess<'a>;
    type StreamErrorRef<'a> = &'a str;
    type StreamConnectFuture = future::Ready<Stream>;
    type MultiStreamConnectFuture = future::Pending<MultiStreamWebRtcConnection<NoMultiStream>>;
    type StreamUpdateFuture<'a> = BoxFuture<'a, ()>;
    type NextSubstreamFuture<'a> = future::Pending<Option<(Stream, SubstreamDirection)>>;

    fn now_from_unix_epoch(&self) -> Duration {
        Duration::try_from_secs_f64(js_sys::Date::now() / 1000.0).unwrap_or_default()
    }

    fn now(&self) -> Instant {
        now()
    }

    fn fill_random_bytes(&self, buffer: &mut [u8]) {
        // crypto.getRandomValues; it fails only where the browser has no crypto at all, and
        // smoldot's keys and nonces must not come from anywhere weaker.
        if let Err(error) = getrandom::getrandom(buffer) {
            panic!("no source of randomness in this browser: {error}");
        }
    }

    fn sleep(&self, duration: Duration) -> Delay {
        sleep(duration)
    }

    fn sleep_until(&self, when: Instant) -> Delay {
        sleep(when - now())
    }

    fn spawn_task(&self, _name: Cow<str>, task: impl Future<Output = ()> + Send + 'static) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn log<'a>(
        &self,
        level: LogLevel,
        target: &'a str,
        message: &'a str,
        key_values: impl Iterator<Item = (&'a str, &'a dyn fmt::Display)>,
    ) {
        // Warnings and errors reach the console; the rest would drown it unless asked for.
        let wanted = match level {
            LogLevel::Error | LogLevel::Warn => true,
            LogLevel::Info | LogLevel::Debug => self.verbose,
            LogLevel::Trace => false,
        };
        if !wanted {
            return;
        }
        let mut line = format!("[smoldot {target}] {message}");
        for (key, value) in key_values {
            line.push_str(&format!(" {key}={value}"));
        }
        let line = JsValue::from_str(&line);
        match level {
            LogLevel::Error | LogLevel::Warn => web_sys::console::warn_1(&line),
            _ => web_sys::console::log_1(&line),
        }
    }

    fn client_name(&self) -> Cow<'_, str> {
        Cow::Borrowed("taoscope")
    }

    fn client_version(&self) -> Cow<'_, str> {
        Cow::Borrowed(env!("CARGO_PKG_VERSION"))
    }

    fn supports_connection_type(&self, connection_type: ConnectionType) -> bool {
        match connection_type {
            ConnectionType::WebSocketIpv4 {
                remote_is_localhost,
            }
            | ConnectionType::WebSocketIpv6 {
                remote_is_localhost,
            } => !self.secure_page || remote_is_localhost,
            ConnectionType::WebSocketDns {
                secure,
                remote_is_localhost,
            } => secure || !self.secure_page || remote_is_localhost,
            // Browsers have no raw TCP, and this platform does no WebRTC.
            _ => false,
        }
    }

    fn connect_stream(&self, address: Address) -> Self::StreamConnectFuture {
        let url = match address {
            Address::WebSocketIp {
                ip: core::net::IpAddr::V4(ip),
                port,
            } => format!("ws://{ip}:{port}"),
            Address::WebSocketIp {
                ip: core::net::IpAddr::V6(ip),
                port,
            } => format!("ws://[{ip}]:{port}"),
            Address::WebSocketDns {
                hostname,
                port,
                secure,
            } => format!("{}://{hostname}:{port}", if secure { "wss" } else { "ws" }),
            Address::TcpIp { .. } | Address::TcpDns { .. } => {
                return future::ready(failed("browsers cannot open TCP connections".into()));
            }
        };
        future::ready(connect(&url))
    }

    fn connect_multistream(&self, _address: MultiStreamAddress) -> Self::MultiStreamConnectFuture {
        // Never asked: `supports_connection_type` refuses WebRTC.
        future::pending()
    }

    fn open_out_substream(&self, connection: &mut NoMultiStream) {
        match *connection {}
    }

    fn next_substream<'a>(
        &self,
        connection: &'a mut NoMultiStream,
    ) -> Self::NextSubstreamFuture<'a> {
        match *connection {}
    }

    fn read_write_access<'a>(
        &self,
        stream: Pin<&'a mut Stream>,
    ) -> Result<StreamAccess<'a>, &'a str> {
        let stream = Pin::into_inner(stream);
        let socket_error = stream.socket.borrow().error.clone();
        if stream.error.is_none() {
            stream.error = socket_error;
        }
        if stream.error.is_some() {
            return Err(stream.error.as_deref().unwrap_or_default());
        }
        stream.accessed = true;
        let mut socket = stream.socket.borrow_mut();
        let incoming_buffer = core::mem::take(&mut socket.incoming);
        let write_bytes_queueable = if stream.write_closed {
            None
        } else if !socket.open {
            Some(0)
        } else {
            Some(WRITE_WINDOW.saturating_sub(buffered(&socket)) as usize)
        };
        let read_write = ReadWrite {
            now: now(),
            incoming_buffer,
            expected_incoming_bytes: if socket.read_closed { None } else { Some(0) },
            read_bytes: 0,
            write_buffers: Vec::new(),
            write_bytes_queued: 0,
            write_bytes_queueable,
            wake_up_after: None,
        };
        drop(socket);
        Ok(StreamAccess { stream, read_write })
    }

    fn wait_read_write_again<'a>(&self, stream: Pin<&'a mut Stream>) -> BoxFuture<'a, ()> {
        let stream = Pin::into_inner(stream);
        if !stream.accessed {
            return Box::pin(future::ready(()));
        }
        let timer = match stream.wake_up_after {
            Some(when) if when <= now() => return Box::pin(future::ready(())),
            Some(when) => Some(sleep(when - now())),
            None => None,
        };
        let socket = SendWrapper::new(Rc::clone(&*stream.socket));
        let seen = stream.seen_events;
        let mut timer = timer;
        Box::pin(future::poll_fn(move |cx| {
            if let Some(timer) = timer.as_mut()
                && Pin::new(timer).poll(cx).is_ready()
            {
                return Poll::Ready(());
            }
            let mut socket = socket.borrow_mut();
            if socket.events != seen {
                return Poll::Ready(());
            }
            socket.waker = Some(cx.waker().clone());
            Poll::Pending
        }))
    }
}
