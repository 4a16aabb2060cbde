//! Untrusted JSON-RPC endpoints: connections, failover and demotion.
//!
//! Nothing an endpoint says is believed here; this module only carries requests. The verified-RPC
//! driver verifies every answer and reports the ones that fail
//! ([`Endpoints::reject`]): the endpoint's count goes up and it drops behind every endpoint
//! with fewer rejections, so an honest one answers next. Endpoints that cannot be reached are
//! skipped the same way, without counting against their honesty, and asked again only after a
//! growing pause (1 s, 2 s, … up to a minute), so a dead endpoint costs no time on every poll.
//!
//! Limits on what an endpoint can make us hold or wait for ([`Limits`]): an answer larger than
//! `max_answer_bytes` is refused (the connection is closed), and one slower than
//! `answer_timeout_ms` is given up on.

use super::trust::EndpointReport;
use serde_json::{Value, json};
use std::fmt;

/// Why a request got no usable answer (the network's fault, or the endpoint's refusal; not a
/// verification failure, which the server reports).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FetchError {
    /// The endpoint cannot be reached, or the connection dropped.
    Connection(String),
    /// No answer in time.
    Timeout,
    /// The endpoint answered with a JSON-RPC error (for example, a method it does not offer).
    Refused { code: i64, message: String },
    /// The answer is not JSON-RPC.
    Garbled(String),
    /// The answer is larger than [`Limits::max_answer_bytes`].
    TooLarge { limit: usize },
    /// The endpoint failed recently; it is asked again after a pause.
    Backoff { seconds: u64 },
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Connection(why) => write!(f, "cannot reach the endpoint: {why}"),
            FetchError::Timeout => write!(f, "the endpoint did not answer in time"),
            FetchError::Refused { code, message } => {
                write!(f, "the endpoint refused ({code}): {message}")
            }
            FetchError::Garbled(why) => write!(f, "the endpoint's answer is not JSON-RPC: {why}"),
            FetchError::TooLarge { limit } => write!(
                f,
                "the endpoint's answer is larger than {} MiB, more than any question here needs",
                limit >> 20
            ),
            FetchError::Backoff { seconds } => write!(
                f,
                "the endpoint failed a moment ago; it is asked again in {seconds} s"
            ),
        }
    }
}

/// What one endpoint may cost: how long an answer may take, and how large it may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub answer_timeout_ms: u64,
    /// A runtime's `:code` proof (a few MiB, twice that in hex) is the largest honest answer.
    pub max_answer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            answer_timeout_ms: 30_000,
            max_answer_bytes: 32 << 20,
        }
    }
}

/// The pause after a failure, doubling up to this.
const MAX_BACKOFF_MS: u64 = 60_000;

/// One WebSocket connection to an endpoint, on some platform.
#[allow(async_fn_in_trait)] // single-threaded callers
pub trait Connection: Sized {
    /// Opens a connection to `url` (`ws://` or, where the platform has TLS, `wss://`), whose
    /// answers are held to `limits`.
    async fn open(url: &str, limits: Limits) -> Result<Self, FetchError>;
    /// Sends one request text and returns the text of the message answering it (the caller
    /// matches ids; notifications are not used).
    async fn exchange(&mut self, request: &str) -> Result<String, FetchError>;
    /// Waits `ms` milliseconds.
    async fn sleep(ms: u64);
    /// Milliseconds on a clock that only goes forward.
    fn now_ms() -> u64;
}

struct Endpoint<C> {
    report: EndpointReport,
    connection: Option<C>,
    /// After a failure: not asked again before this time, and how long the next pause is.
    retry_at_ms: u64,
    backoff_ms: u64,
}

pub struct Endpoints<C> {
    endpoints: Vec<Endpoint<C>>,
    next_id: u64,
    limits: Limits,
}

/// The endpoints in the order they are tried: fewest rejections first, then fewest failures,
/// then the user's order.
fn order<C>(endpoints: &[Endpoint<C>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..endpoints.len()).collect();
    order.sort_by_key(|&i| {
        let r = &endpoints[i].report;
        (r.rejections, r.failures.min(3), i)
    });
    order
}

impl<C: Connection> Endpoints<C> {
    pub fn new(urls: &[String], limits: Limits) -> Self {
        Endpoints {
            limits,
            endpoints: urls
                .iter()
                .map(|url| Endpoint {
                    report: EndpointReport {
                        url: url.clone(),
                        rejections: 0,
                        last_rejection: None,
                        failures: 0,
                        last_failure: None,
                        connected: false,
                    },
                    connection: None,
                    retry_at_ms: 0,
                    backoff_ms: 0,
                })
                .collect(),
            next_id: 1,
        }
    }

    pub fn reports(&self) -> Vec<EndpointReport> {
        self.endpoints.iter().map(|e| e.report.clone()).collect()
    }

    /// The endpoint to ask first, by index.
    pub fn preferred(&self) -> Option<usize> {
        order(&self.endpoints).first().copied()
    }

    /// The endpoints in the order to try them.
    pub fn in_order(&self) -> Vec<usize> {
        order(&self.endpoints)
    }

    pub fn url(&self, endpoint: usize) -> &str {
        self.endpoints
            .get(endpoint)
            .map_or("", |e| e.report.url.as_str())
    }

    /// An answer from `endpoint` failed verification: count it and demote the endpoint.
    pub fn reject(&mut self, endpoint: usize, why: &str) {
        if let Some(e) = self.endpoints.get_mut(endpoint) {
            e.report.rejections += 1;
            e.report.last_rejection = Some(why.to_string());
            // A fresh connection next time: whatever state the old one had is not wanted.
            e.connection = None;
            e.report.connected = false;
        }
    }

    fn fail(&mut self, endpoint: usize, error: &FetchError) {
        if matches!(error, FetchError::Backoff { .. }) {
            return; // not asked: nothing new about it
        }
        if let Some(e) = self.endpoints.get_mut(endpoint) {
            e.report.failures += 1;
            e.report.last_failure = Some(error.to_string());
            if !matches!(error, FetchError::Refused { .. }) {
                e.connection = None;
                e.report.connected = false;
                e.backoff_ms = (e.backoff_ms * 2).clamp(1_000, MAX_BACKOFF_MS);
                e.retry_at_ms = C::now_ms().saturating_add(e.backoff_ms);
            }
        }
    }

    /// The `result` of `method(params)` from `endpoint`. Failures are counted; a connection
    /// is (re)opened as needed.
    pub async fn request(
        &mut self,
        endpoint: usize,
        method: &str,
        params: Value,
    ) -> Result<Value, FetchError> {
        let id = self.next_id;
        self.next_id += 1;
        let result = self.request_inner(endpoint, id, method, params).await;
        if let Err(error) = &result {
            self.fail(endpoint, error);
        }
        result
    }

    async fn request_inner(
        &mut self,
        endpoint: usize,
        id: u64,
        method: &str,
        params: Value,
    ) -> Result<Value, FetchError> {
        let entry = self
            .endpoints
            .get_mut(endpoint)
            .ok_or_else(|| FetchError::Connection("no such endpoint".into()))?;
        if entry.connection.is_none() {
            let now = C::now_ms();
            if now < entry.retry_at_ms {
                return Err(FetchError::Backoff {
                    seconds: (entry.retry_at_ms - now).div_ceil(1000),
                });
            }
            entry.connection = Some(C::open(&entry.report.url, self.limits).await?);
            entry.report.connected = true;
            entry.backoff_ms = 0;
        }
        let connection = entry
            .connection
            .as_mut()
            .ok_or_else(|| FetchError::Connection("not connected".into()))?;
        let request = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let text = connection.exchange(&request.to_string()).await?;
        let answer: Value =
            serde_json::from_str(&text).map_err(|e| FetchError::Garbled(e.to_string()))?;
        if answer["id"] != json!(id) {
            return Err(FetchError::Garbled(format!(
                "an answer to request {} came for request {id}",
                answer["id"]
            )));
        }
        if let Some(error) = answer.get("error") {
            return Err(FetchError::Refused {
                code: error["code"].as_i64().unwrap_or(0),
                message: error["message"].as_str().unwrap_or("").to_string(),
            });
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| FetchError::Garbled("neither result nor error".into()))
    }
}

/// One endpoint asked directly, with the same limits: for what a page reads from a node the user
/// chose to trust (the localnet's chain spec, the Epoch lab's trusted-RPC audit). One request at a
/// time; concurrent callers wait their turn.
pub struct Single<C> {
    endpoints: futures_util::lock::Mutex<Endpoints<C>>,
    url: String,
}

impl<C: Connection> Single<C> {
    pub fn new(url: &str) -> Self {
        Single {
            endpoints: futures_util::lock::Mutex::new(Endpoints::new(
                &[url.to_string()],
                Limits::default(),
            )),
            url: url.to_string(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `result` of `method(params)`, or why there is none.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, FetchError> {
        self.endpoints.lock().await.request(0, method, params).await
    }
}
