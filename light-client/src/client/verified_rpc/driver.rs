//! The driver: asks untrusted endpoints for what the verified core needs, with failover.
//!
//! It fetches and never judges. Finality is moved by the follower's own requests
//! ([`Advance`]); values, key pages and bodies are handed to [`crate::verified`]'s checks as they
//! come. An answer that fails a check is a rejection (endpoint, what, why): counted against the
//! endpoint, shown in the Trust panel, and the same question goes to the next endpoint. Only when
//! every endpoint fails does an operation fail, with every reason.

use super::{Rejection, TrustReport};
use crate::client::BlockRef;
use crate::client::endpoints::{Connection, Endpoints, FetchError, Limits};
use crate::client::legacy;
use crate::hashing::blake2_256;
use crate::hex::to_hex;
use crate::verified::body;
use crate::verified::finality::VerifiedHeader;
use crate::verified::follower::{Advance, Follower, Request, Response, Stop};
use crate::verified::proof::{Entries, Proof};
use serde_json::json;
use std::sync::{Arc, Mutex};

/// Keys asked per page of a prefix iteration.
const PAGE_SIZE: usize = 256;
/// Keys per read proof asked at once (endpoints cap them; the localnet at 1 000).
const KEYS_PER_PROOF: usize = 256;
/// The most keys one prefix read takes: a larger map is refused in words rather than read into
/// memory without end.
pub const MAX_PREFIX_KEYS: usize = 1 << 20;
/// Rejections kept for the Trust panel.
const REJECTIONS_KEPT: usize = 32;
/// How long one poll may spend moving finality before requests are served again.
const ADVANCE_BUDGET_MS: u64 = 5_000;

/// Why an attempt at one endpoint gave nothing.
pub(super) enum Attempt {
    /// The endpoint could not answer (network, timeout, refusal): try another.
    Fetch(FetchError),
    /// The endpoint answered something that fails verification.
    Rejected(String),
}

impl From<FetchError> for Attempt {
    fn from(error: FetchError) -> Self {
        match error {
            // No honest answer to our questions is that large: a lie, not a failure.
            FetchError::TooLarge { .. } => Attempt::Rejected(error.to_string()),
            other => Attempt::Fetch(other),
        }
    }
}

fn rejected(why: impl Into<String>) -> Attempt {
    Attempt::Rejected(why.into())
}

pub struct Driver<C> {
    endpoints: Endpoints<C>,
    report: Arc<Mutex<TrustReport>>,
    /// An attempt at advancing finality that ran out of time, and its endpoint.
    in_progress: Option<(usize, Advance)>,
}

impl<C: Connection> Driver<C> {
    pub fn new(urls: &[String], limits: Limits, report: Arc<Mutex<TrustReport>>) -> Self {
        Driver {
            endpoints: Endpoints::new(urls, limits),
            report,
            in_progress: None,
        }
    }

    /// Endpoints that have a connection open now.
    pub fn connected(&self) -> usize {
        self.endpoints
            .reports()
            .iter()
            .filter(|e| e.connected)
            .count()
    }

    /// Updates the Trust panel's report from the follower, then with `change`.
    pub fn report(&self, follower: &Follower, change: impl FnOnce(&mut TrustReport)) {
        if let Ok(mut report) = self.report.lock() {
            report.endpoints = self.endpoints.reports();
            let finality = follower.finality();
            report.set_id = finality.set_id();
            report.justifications_verified = finality.justifications_verified();
            let finalized = follower.finalized();
            report.finalized = Some(BlockRef {
                number: finalized.number,
                hash: to_hex(&finalized.hash),
            });
            report.halted = finality.halted().map(|h| h.to_string());
            report.runtime_problem = follower.runtime_problem();
            report.runtime = follower.current_runtime().map(|r| r.spec().clone());
            report.runtime_code_hash = follower.current_runtime().map(|r| to_hex(r.code_hash()));
            change(&mut report);
        }
    }

    fn count(&self, change: impl FnOnce(&mut TrustReport)) {
        if let Ok(mut report) = self.report.lock() {
            change(&mut report);
        }
    }

    /// Books an attempt that failed at `endpoint`; returns it in words for the final error.
    fn note(&mut self, endpoint: usize, what: &str, attempt: Attempt) -> String {
        let url = self.endpoints.url(endpoint).to_string();
        match attempt {
            Attempt::Fetch(error) => format!("{url}: {error}"),
            Attempt::Rejected(why) => {
                self.endpoints.reject(endpoint, &why);
                let rejection = Rejection {
                    endpoint: url.clone(),
                    what: what.to_string(),
                    why: why.clone(),
                };
                let endpoints = self.endpoints.reports();
                self.count(|r| {
                    r.endpoints = endpoints;
                    r.rejections.push(rejection);
                    let excess = r.rejections.len().saturating_sub(REJECTIONS_KEPT);
                    r.rejections.drain(..excess);
                });
                format!("{url}: rejected: {why}")
            }
        }
    }

    fn no_answer(what: &str, reasons: &[String]) -> String {
        if reasons.is_empty() {
            format!("{what}: no endpoint is configured")
        } else {
            format!(
                "{what}: no endpoint gave a verifiable answer ({})",
                reasons.join("; ")
            )
        }
    }

    // ---- Finality ----------------------------------------------------------------------

    /// Moves finality as far as the endpoints can prove: each is asked in turn (one that is
    /// behind, or up to date with us, must not keep a further one from being heard). A poll
    /// spends at most [`ADVANCE_BUDGET_MS`] on it, so that requests are served between polls; an
    /// attempt cut short goes on at the next poll. `Err`: why no endpoint could answer (or why
    /// the client cannot go further at all).
    pub async fn advance(&mut self, follower: &mut Follower) -> Result<(), String> {
        if let Some(halted) = follower.finality().halted() {
            return Err(halted.to_string());
        }
        let deadline = C::now_ms().saturating_add(ADVANCE_BUDGET_MS);
        let mut resumed = self.in_progress.take();
        let mut order = self.endpoints.in_order();
        if let Some((endpoint, _)) = &resumed {
            order.retain(|e| e != endpoint);
            order.insert(0, *endpoint);
        }
        let mut reasons = Vec::new();
        let mut answered = false;
        for endpoint in order {
            let mut advance = match resumed.take() {
                Some((e, advance)) if e == endpoint => advance,
                _ => Advance::new(),
            };
            let mut progressed = false;
            let outcome = loop {
                if C::now_ms() > deadline {
                    self.in_progress = Some((endpoint, advance));
                    return Ok(());
                }
                let Some(request) = advance.request() else {
                    break Ok(());
                };
                let response = match self.fetch(endpoint, &request).await {
                    Ok(response) => response,
                    Err(attempt) => break Err(attempt),
                };
                match advance.respond(follower, response) {
                    Ok(proven) => {
                        let count = proven.len() as u64;
                        progressed |= count > 0;
                        self.count(|r| r.headers_verified += count);
                    }
                    Err(Stop::UpToDate(None)) => break Ok(()),
                    // Proven as far as its justifications go: the rest waits for the next one.
                    Err(Stop::UpToDate(Some(_))) if progressed => break Ok(()),
                    Err(Stop::UpToDate(Some(why))) => {
                        break Err(Attempt::Fetch(FetchError::Refused {
                            code: 0,
                            message: why,
                        }));
                    }
                    Err(Stop::Lie(why)) => break Err(rejected(why)),
                    Err(Stop::Halted(why)) => return Err(why),
                }
            };
            match outcome {
                Ok(()) => answered = true,
                Err(attempt) => reasons.push(self.note(endpoint, "finality", attempt)),
            }
        }
        if answered {
            Ok(())
        } else {
            Err(Self::no_answer("following finality", &reasons))
        }
    }

    async fn fetch(&mut self, endpoint: usize, request: &Request) -> Result<Response, Attempt> {
        match request {
            Request::FinalizedHead => {
                let answer = self
                    .endpoints
                    .request(endpoint, "chain_getFinalizedHead", json!([]))
                    .await?;
                legacy::hash(&answer)
                    .map(Response::Hash)
                    .map_err(|e| rejected(format!("chain_getFinalizedHead: {e}")))
            }
            Request::Header(hash) => {
                let answer = self
                    .endpoints
                    .request(endpoint, "chain_getHeader", json!([to_hex(hash)]))
                    .await?;
                if answer.is_null() {
                    // A load-balanced endpoint may name a block one node has and ask another.
                    return Err(Attempt::Fetch(FetchError::Refused {
                        code: 0,
                        message: format!("it has no header for block {}", to_hex(hash)),
                    }));
                }
                legacy::header(&answer)
                    .map(Response::Header)
                    .map_err(|e| rejected(format!("header: {e}")))
            }
            Request::FinalityProof { from } => {
                match self
                    .endpoints
                    .request(endpoint, "grandpa_proveFinality", json!([from]))
                    .await
                {
                    Ok(answer) => legacy::finality_proof(&answer)
                        .map(|proof| {
                            let (justification, headers) = proof.unzip();
                            Response::Justification {
                                justification,
                                headers: headers.unwrap_or_default(),
                            }
                        })
                        .map_err(rejected),
                    // Not offered: the stored justification of its head will do.
                    Err(FetchError::Refused { .. }) => Ok(Response::Justification {
                        justification: None,
                        headers: Vec::new(),
                    }),
                    Err(error) => Err(error.into()),
                }
            }
            Request::BlockJustification(hash) => {
                let block = self
                    .endpoints
                    .request(endpoint, "chain_getBlock", json!([to_hex(hash)]))
                    .await?;
                legacy::block_justification(&block)
                    .map(|justification| Response::Justification {
                        justification,
                        headers: Vec::new(),
                    })
                    .map_err(rejected)
            }
        }
    }

    // ---- Storage -------------------------------------------------------------------------

    /// The values at `keys` in `block`'s state, proven.
    pub async fn read_values(
        &mut self,
        block: &VerifiedHeader,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, String> {
        let mut values = Vec::with_capacity(keys.len());
        for batch in keys.chunks(KEYS_PER_PROOF) {
            values.extend(self.read_batch(block, batch).await?);
        }
        Ok(values)
    }

    async fn read_batch(
        &mut self,
        block: &VerifiedHeader,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, String> {
        let mut reasons = Vec::new();
        for endpoint in self.endpoints.in_order() {
            let attempt = async {
                let proof = self.read_proof(endpoint, block, keys).await?;
                keys.iter()
                    .map(|key| proof.value(key).map_err(|e| rejected(e.to_string())))
                    .collect::<Result<Vec<_>, Attempt>>()
            }
            .await;
            match attempt {
                Ok(values) => {
                    self.count(|r| r.proofs_verified += 1);
                    return Ok(values);
                }
                Err(attempt) => reasons.push(self.note(endpoint, "storage", attempt)),
            }
        }
        Err(Self::no_answer("reading storage", &reasons))
    }

    /// Every key and value under `prefix` in `block`'s state, page by page, each page proven
    /// complete. Stops, in words, at [`MAX_PREFIX_KEYS`].
    pub async fn read_prefix(
        &mut self,
        block: &VerifiedHeader,
        prefix: &[u8],
    ) -> Result<Entries, String> {
        let mut entries = Entries::new();
        loop {
            let after = entries.last().map(|(key, _)| key.clone());
            let mut reasons = Vec::new();
            let mut page = None;
            for endpoint in self.endpoints.in_order() {
                match self.page(endpoint, block, prefix, after.as_deref()).await {
                    Ok(found) => {
                        page = Some(found);
                        break;
                    }
                    Err(attempt) => reasons.push(self.note(endpoint, "storage", attempt)),
                }
            }
            let Some((found, complete)) = page else {
                return Err(Self::no_answer("iterating storage", &reasons));
            };
            self.count(|r| r.proofs_verified += 1);
            // The proof shows each key follows `after`; a page that adds none and does not end
            // would ask the same question forever.
            if found.is_empty() && !complete {
                return Err(format!(
                    "iterating storage under {}: a page with no keys that does not end",
                    to_hex(prefix)
                ));
            }
            entries.extend(found);
            if complete {
                return Ok(entries);
            }
            if entries.len() >= MAX_PREFIX_KEYS {
                return Err(format!(
                    "iterating storage under {}: more than {MAX_PREFIX_KEYS} keys; taoscope does \
                     not read a map that large at once",
                    to_hex(prefix)
                ));
            }
        }
    }

    async fn page(
        &mut self,
        endpoint: usize,
        block: &VerifiedHeader,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> Result<(Entries, bool), Attempt> {
        let listed = self
            .endpoints
            .request(
                endpoint,
                "state_getKeysPaged",
                json!([
                    to_hex(prefix),
                    PAGE_SIZE,
                    after.map(to_hex),
                    to_hex(&block.hash)
                ]),
            )
            .await?;
        let claimed = legacy::keys(&listed).map_err(rejected)?;
        if claimed.len() > PAGE_SIZE {
            return Err(rejected(format!(
                "a page of {} keys where {PAGE_SIZE} were asked for",
                claimed.len()
            )));
        }
        // The proof must reach where the page starts as well as every key on it.
        let mut keys = vec![after.unwrap_or(prefix).to_vec()];
        keys.extend(claimed.iter().cloned());
        let proof = self.read_proof(endpoint, block, &keys).await?;
        proof
            .page(prefix, after, &claimed, PAGE_SIZE)
            .map_err(|e| rejected(e.to_string()))
    }

    async fn read_proof(
        &mut self,
        endpoint: usize,
        block: &VerifiedHeader,
        keys: &[Vec<u8>],
    ) -> Result<Proof, Attempt> {
        let keys: Vec<String> = keys.iter().map(|k| to_hex(k)).collect();
        let answer = self
            .endpoints
            .request(
                endpoint,
                "state_getReadProof",
                json!([keys, to_hex(&block.hash)]),
            )
            .await?;
        let nodes = legacy::read_proof(&answer).map_err(rejected)?;
        let bytes: usize = nodes.iter().map(Vec::len).sum();
        self.count(|r| r.proof_bytes += bytes as u64);
        Proof::new(block.state_root, &nodes).map_err(|e| rejected(e.to_string()))
    }

    /// Reads `:code` and `:heappages` where the follower wants the runtime read, and hands them
    /// over (or why they could not be had).
    pub async fn load_runtime(&mut self, follower: &mut Follower) {
        let Some(block) = follower.runtime_wanted() else {
            return;
        };
        let keys = [b":code".to_vec(), b":heappages".to_vec()];
        let values = self.read_values(&block, &keys).await.map(|values| {
            let mut values = values.into_iter();
            (values.next().flatten(), values.next().flatten())
        });
        follower.runtime_read(&block, values);
    }

    // ---- Bodies and transactions --------------------------------------------------------

    /// The extrinsics of a proven block, checked against its header.
    pub async fn body(&mut self, block: &VerifiedHeader) -> Result<Vec<Vec<u8>>, String> {
        let mut reasons = Vec::new();
        for endpoint in self.endpoints.in_order() {
            let attempt = async {
                let answer = self
                    .endpoints
                    .request(endpoint, "chain_getBlock", json!([to_hex(&block.hash)]))
                    .await?;
                let extrinsics = legacy::block_extrinsics(&answer)
                    .map_err(rejected)?
                    .ok_or_else(|| {
                        Attempt::Fetch(FetchError::Refused {
                            code: 0,
                            message: format!("it does not have block #{}", block.number),
                        })
                    })?;
                body::verify_body(&block.scale, &extrinsics)
                    .map_err(|e| rejected(e.to_string()))?;
                Ok(extrinsics)
            }
            .await;
            match attempt {
                Ok(extrinsics) => return Ok(extrinsics),
                Err(attempt) => reasons.push(self.note(endpoint, "block body", attempt)),
            }
        }
        Err(Self::no_answer("reading a block body", &reasons))
    }

    /// Hands the transaction to every endpoint; the number that took it, or why none did.
    pub async fn broadcast(&mut self, extrinsic: &[u8]) -> Result<usize, String> {
        let hash = blake2_256(extrinsic);
        let mut took = 0;
        let mut reasons = Vec::new();
        for endpoint in self.endpoints.in_order() {
            let attempt = match self
                .endpoints
                .request(
                    endpoint,
                    "author_submitExtrinsic",
                    json!([to_hex(extrinsic)]),
                )
                .await
            {
                Ok(answer) => match legacy::hash(&answer) {
                    Ok(named) if named == hash => {
                        took += 1;
                        continue;
                    }
                    Ok(named) => rejected(format!(
                        "it took the transaction {} as {}",
                        to_hex(&hash),
                        to_hex(&named)
                    )),
                    Err(e) => rejected(format!("author_submitExtrinsic: {e}")),
                },
                Err(error) => error.into(),
            };
            reasons.push(self.note(endpoint, "transaction", attempt));
        }
        if took > 0 {
            Ok(took)
        } else {
            Err(Self::no_answer("sending the transaction", &reasons))
        }
    }
}
