//! The follower: the chain as far as it has been proven, and what it needs next, sans I/O.
//!
//! As smoldot's `sync`: [`Advance`] is one attempt at moving finality forward with one endpoint.
//! It says what it needs as a typed [`Request`], takes the answer ([`Advance::respond`]), judges
//! it (through [`super::finality`]), and hands what it proves to the [`Follower`]. The caller (the
//! driver) only fetches, with failover; it makes no judgement.
//!
//! The follower also keeps
//! - the proven headers, readable by hash for a while ([`BLOCKS_KEPT`]) whatever a reader
//!   unpins, and the newly proven ones until the façade announces them (bounded: a reader that
//!   falls [`FRESH_KEPT`] blocks behind is told to follow again, [`Fresh::Overflowed`]);
//! - the runtime in force, era by era ([`Era`]): a block whose digest says the runtime changed
//!   starts an era whose runtime must be compiled from `:code` proven at that era's blocks before
//!   anything at or after it is read. Until then (code withheld, forged, or not a runtime), reads
//!   and calls there are refused with the reason ([`Follower::readable`]), never answered with
//!   the old runtime, whose metadata no longer describes the state.
//!
//! Threat model: as [`super::finality`]; in addition, an endpoint may withhold the `:code` of an
//! upgrade or serve a runtime that never returns (see [`super::fuel`]).

use super::checkpoint::Checkpoint;
use super::finality::{self, Finality, FinalityError, VerifiedHeader};
use super::runtime::Runtime;
use crate::hashing::blake2_256;
use crate::header::Header;
use crate::hex::to_hex;
use std::collections::{BTreeMap, VecDeque};

/// Proven headers kept readable (about an hour of Bittensor's 12 s blocks, a few MB).
pub const BLOCKS_KEPT: usize = 512;
/// Proven blocks waiting to be announced before the reader is told it fell behind.
pub const FRESH_KEPT: usize = 1024;
/// The most headers fetched one by one to link one justification (headers that come with a
/// finality proof do not count: they cost no round trip).
pub const MAX_GAP: u64 = 4096;
/// A header larger than this is no Bittensor header (a digest of a few items).
pub const MAX_HEADER_BYTES: usize = 64 << 10;
/// The most header bytes held for one justification before it is checked.
pub const MAX_WALK_BYTES: usize = 32 << 20;
/// Compiled runtimes kept: the one in force and the one before (reads at blocks just before an
/// upgrade). Older eras' blocks are refused.
const RUNTIMES_KEPT: usize = 2;

/// What an [`Advance`] asks an endpoint for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Its finalized head (`chain_getFinalizedHead`).
    FinalizedHead,
    /// The SCALE header with this hash (`chain_getHeader`).
    Header([u8; 32]),
    /// A justification of a block from `from` on (`grandpa_proveFinality`), if it has one.
    FinalityProof { from: u64 },
    /// The justification stored with a block (`chain_getBlock`'s `justifications`), if any.
    BlockJustification([u8; 32]),
}

/// An endpoint's answer, parsed but not believed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    Hash([u8; 32]),
    Header(Vec<u8>),
    /// A justification (none: the endpoint has none for that block yet), with the headers a
    /// finality proof carries between the block asked and the one justified (they save a round
    /// trip each, and are checked like fetched ones).
    Justification {
        justification: Option<Vec<u8>>,
        headers: Vec<Vec<u8>>,
    },
}

/// Why an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Nothing newer to prove through this endpoint now (it is not ahead, lags behind, or has no
    /// justification yet); the words say why when it is not simply up to date.
    UpToDate(Option<String>),
    /// The endpoint answered something false or malformed: count it against the endpoint.
    Lie(String),
    /// The chain forced an authority change this client cannot follow: ask no one.
    Halted(String),
}

fn lie(why: impl Into<String>) -> Stop {
    Stop::Lie(why.into())
}

enum Step {
    Head,
    HeadHeader([u8; 32]),
    Proof {
        from: u64,
    },
    Stored,
    /// Headers from the justification's target down to our finalized block, newest first.
    Walk {
        next: [u8; 32],
        remaining: u64,
    },
    /// The justification of block `at` (an authority set change inside the range).
    Enact {
        at: u64,
    },
    Done,
}

/// One attempt at advancing finality through one endpoint. It may be kept across polls and
/// resumed, as long as nothing else moved the follower meanwhile.
pub struct Advance {
    step: Step,
    head: (u64, [u8; 32]),
    justification: Vec<u8>,
    /// The justification's target number, while walking.
    target: u64,
    /// The headers after our finalized block up to the justification's target, oldest first
    /// once the walk is complete.
    headers: Vec<Vec<u8>>,
    /// Their bytes, bounded by [`MAX_WALK_BYTES`].
    bytes: usize,
    /// Headers that came with the finality proof, by their (computed) hash.
    provided: BTreeMap<[u8; 32], Vec<u8>>,
}

impl Default for Advance {
    fn default() -> Self {
        Self::new()
    }
}

impl Advance {
    pub fn new() -> Self {
        Advance {
            step: Step::Head,
            head: (0, [0; 32]),
            justification: Vec::new(),
            target: 0,
            headers: Vec::new(),
            bytes: 0,
            provided: BTreeMap::new(),
        }
    }

    /// What to fetch next; `None` once the attempt is over.
    pub fn request(&self) -> Option<Request> {
        match &self.step {
            Step::Head => Some(Request::FinalizedHead),
            Step::HeadHeader(hash) | Step::Walk { next: hash, .. } => Some(Request::Header(*hash)),
            Step::Proof { from } => Some(Request::FinalityProof { from: *from }),
            Step::Stored => Some(Request::BlockJustification(self.head.1)),
            Step::Enact { at } => {
                let index = self.index_of(*at)?;
                let header = self.headers.get(index)?;
                Some(Request::BlockJustification(blake2_256(header)))
            }
            Step::Done => None,
        }
    }

    /// Where block `number` is in `headers` (oldest first, after the finalized block).
    fn index_of(&self, number: u64) -> Option<usize> {
        let first = self.headers.first().and_then(|h| Header::decode(h).ok())?;
        usize::try_from(number.checked_sub(u64::from(first.number))?).ok()
    }

    /// Takes the answer to [`Advance::request`]. `Ok` with the blocks proven by it (often none:
    /// more is needed); `Err` ends the attempt.
    pub fn respond(
        &mut self,
        follower: &mut Follower,
        response: Response,
    ) -> Result<Vec<VerifiedHeader>, Stop> {
        if let Some(halted) = follower.finality.halted() {
            self.step = Step::Done;
            return Err(Stop::Halted(halted.to_string()));
        }
        let ours = follower.finality.finalized().clone();
        match (std::mem::replace(&mut self.step, Step::Done), response) {
            (Step::Head, Response::Hash(hash)) => {
                self.step = Step::HeadHeader(hash);
                Ok(Vec::new())
            }
            (Step::HeadHeader(hash), Response::Header(scale)) => {
                let head = header_of(&hash, &scale)?;
                let number = u64::from(head.number);
                // Behind us: a lagging node (or one replaying an old head). Not believed, and
                // not a lie either: load-balanced public endpoints lag now and then.
                if number < ours.number {
                    return Err(Stop::UpToDate(Some(format!(
                        "its finalized block #{number} is behind #{}, already proven final",
                        ours.number
                    ))));
                }
                if number == ours.number {
                    if hash != ours.hash {
                        return Err(lie(format!(
                            "its finalized block #{number} is {}, but {} is proven final at \
                             that height",
                            to_hex(&hash),
                            to_hex(&ours.hash)
                        )));
                    }
                    return Err(Stop::UpToDate(None));
                }
                self.head = (number, hash);
                self.step = Step::Proof {
                    from: ours.number + 1,
                };
                Ok(Vec::new())
            }
            (
                Step::Proof { .. },
                Response::Justification {
                    justification: None,
                    ..
                },
            ) => {
                self.step = Step::Stored;
                Ok(Vec::new())
            }
            (
                Step::Proof { .. } | Step::Stored,
                Response::Justification {
                    justification: Some(justification),
                    headers,
                },
            ) => {
                let (number, hash) = finality::justification_target(&justification)
                    .map_err(|e| lie(e.to_string()))?;
                if number <= ours.number {
                    return Err(lie(FinalityError::NotNewer {
                        finalized: ours.number,
                        claimed: number,
                    }
                    .to_string()));
                }
                self.provided = headers
                    .into_iter()
                    .filter(|h| h.len() <= MAX_HEADER_BYTES)
                    .map(|h| (blake2_256(&h), h))
                    .collect();
                let gap = number - ours.number;
                let provided = u64::try_from(self.provided.len()).unwrap_or(u64::MAX);
                if gap > MAX_GAP.saturating_add(provided) {
                    return Err(Stop::UpToDate(Some(format!(
                        "its next justification is {gap} blocks ahead (block #{number}); at \
                         most {MAX_GAP} headers are fetched one by one to link it"
                    ))));
                }
                self.justification = justification;
                self.target = number;
                self.headers.clear();
                self.bytes = 0;
                self.step = Step::Walk {
                    next: hash,
                    remaining: gap,
                };
                self.walk_provided(follower)
            }
            (
                Step::Stored,
                Response::Justification {
                    justification: None,
                    ..
                },
            ) => Err(Stop::UpToDate(Some(format!(
                "no justification for block #{} yet",
                self.head.0
            )))),
            (Step::Walk { next, remaining }, Response::Header(scale)) => {
                self.take_header(next, remaining, scale)?;
                self.walk_provided(follower)
            }
            (Step::Enact { at }, Response::Justification { justification, .. }) => {
                let justification = justification.ok_or_else(|| {
                    lie(format!(
                        "block #{at} changes the authority set but the endpoint has no \
                         justification for it"
                    ))
                })?;
                let index = self
                    .index_of(at)
                    .ok_or_else(|| lie("the headers do not reach the set change"))?;
                let enacting: Vec<Vec<u8>> = self.headers.drain(..=index).collect();
                let mut proven = follower
                    .finality
                    .advance(&enacting, &justification)
                    .map_err(|e| lie(e.to_string()))?;
                follower.accept(&proven);
                proven.extend(self.apply(follower)?);
                Ok(proven)
            }
            (_, other) => Err(lie(format!(
                "an answer that does not fit the question: {}",
                match other {
                    Response::Hash(_) => "a hash",
                    Response::Header(_) => "a header",
                    Response::Justification { .. } => "a justification",
                }
            ))),
        }
    }

    /// One header of the walk down from the target: it must hash to what its child names, be
    /// of the height that follows from the target, and stay within the size limits.
    fn take_header(&mut self, next: [u8; 32], remaining: u64, scale: Vec<u8>) -> Result<(), Stop> {
        if scale.len() > MAX_HEADER_BYTES {
            return Err(lie(format!(
                "a header of {} bytes (at most {MAX_HEADER_BYTES})",
                scale.len()
            )));
        }
        let header = header_of(&next, &scale)?;
        let expected = self.target - (self.headers.len() as u64);
        if u64::from(header.number) != expected {
            return Err(lie(format!(
                "the header of {} is block #{}, where the chain down from #{} needs #{expected}",
                to_hex(&next),
                header.number,
                self.target
            )));
        }
        self.bytes += scale.len();
        if self.bytes > MAX_WALK_BYTES {
            return Err(lie(format!(
                "more than {} MiB of headers for one justification",
                MAX_WALK_BYTES >> 20
            )));
        }
        self.headers.push(scale);
        self.step = if remaining > 1 {
            Step::Walk {
                next: header.parent_hash,
                remaining: remaining - 1,
            }
        } else {
            Step::Done
        };
        Ok(())
    }

    /// Walks down with the headers the proof brought, as far as they go; applies the
    /// justification once the walk reaches our finalized block.
    fn walk_provided(&mut self, follower: &mut Follower) -> Result<Vec<VerifiedHeader>, Stop> {
        while let Step::Walk { next, remaining } = self.step {
            let Some(scale) = self.provided.remove(&next) else {
                return Ok(Vec::new()); // fetched from the endpoint next
            };
            self.take_header(next, remaining, scale)?;
        }
        self.provided.clear();
        self.headers.reverse();
        self.apply(follower)
    }

    /// Applies the justification to the walked headers; on to the next justification when the
    /// endpoint's head is further, or to the justification of a set change in between.
    fn apply(&mut self, follower: &mut Follower) -> Result<Vec<VerifiedHeader>, Stop> {
        match follower
            .finality
            .advance(&self.headers, &self.justification)
        {
            Ok(proven) => {
                follower.accept(&proven);
                self.headers.clear();
                self.bytes = 0;
                let finalized = follower.finality.finalized().number;
                self.step = if finalized < self.head.0 {
                    Step::Proof {
                        from: finalized + 1,
                    }
                } else {
                    Step::Done
                };
                Ok(proven)
            }
            Err(FinalityError::ChangeSkipped { at }) => {
                self.step = Step::Enact { at };
                Ok(Vec::new())
            }
            Err(error) => Err(lie(error.to_string())),
        }
    }
}

/// A header fetched by hash: it must hash to what was asked.
fn header_of(asked: &[u8; 32], scale: &[u8]) -> Result<Header, Stop> {
    let header = Header::decode(scale).map_err(|e| lie(format!("header: {e}")))?;
    if &header.hash != asked {
        return Err(lie(format!(
            "asked for the header of {}, got one that hashes to {}",
            to_hex(asked),
            to_hex(&header.hash)
        )));
    }
    Ok(header)
}

/// The runtime of an era, as far as it is known.
pub enum EraRuntime {
    /// Not read yet, or its `:code` could not be fetched: read again later. The words say why.
    Unread(String),
    Loaded(Box<Runtime>),
    /// Read and unusable: the proven `:code` is not a runtime this client can run.
    Refused(String),
    /// Dropped to save memory (an era older than the ones kept).
    Forgotten,
}

/// The blocks from `since` (until the next era) and the runtime in force there.
pub struct Era {
    pub since: u64,
    pub runtime: EraRuntime,
}

/// `:code` and `:heappages` as proven, or why they could not be read.
pub type RuntimeValues = Result<(Option<Vec<u8>>, Option<Vec<u8>>), String>;

/// What [`Follower::take_fresh`] gives the façade.
pub enum Fresh {
    Blocks(Vec<VerifiedHeader>),
    /// More blocks were proven than are kept for announcing: the reader must follow again.
    Overflowed,
}

/// The proven chain.
pub struct Follower {
    finality: Finality,
    kept: BTreeMap<[u8; 32], VerifiedHeader>,
    kept_order: VecDeque<[u8; 32]>,
    fresh: VecDeque<VerifiedHeader>,
    overflowed: bool,
    /// Oldest first; never empty.
    eras: Vec<Era>,
}

impl Follower {
    pub fn new(checkpoint: &Checkpoint) -> Result<Self, FinalityError> {
        let finality = Finality::new(checkpoint)?;
        let start = finality.finalized().clone();
        let mut follower = Follower {
            eras: vec![Era {
                since: start.number,
                runtime: EraRuntime::Unread("the runtime is not read yet".into()),
            }],
            finality,
            kept: BTreeMap::new(),
            kept_order: VecDeque::new(),
            fresh: VecDeque::new(),
            overflowed: false,
        };
        follower.keep(start);
        Ok(follower)
    }

    pub fn finality(&self) -> &Finality {
        &self.finality
    }

    pub fn finalized(&self) -> &VerifiedHeader {
        self.finality.finalized()
    }

    /// A proven header still kept.
    pub fn block(&self, hash: &[u8; 32]) -> Option<&VerifiedHeader> {
        self.kept.get(hash)
    }

    fn keep(&mut self, header: VerifiedHeader) {
        self.kept_order.push_back(header.hash);
        self.kept.insert(header.hash, header);
        while self.kept_order.len() > BLOCKS_KEPT {
            if let Some(old) = self.kept_order.pop_front() {
                self.kept.remove(&old);
            }
        }
    }

    fn accept(&mut self, proven: &[VerifiedHeader]) {
        for header in proven {
            if header.runtime_updated {
                self.eras.push(Era {
                    since: header.number,
                    runtime: EraRuntime::Unread(format!(
                        "the runtime changed at block #{} and its new code is not read yet",
                        header.number
                    )),
                });
            }
            self.keep(header.clone());
            if self.fresh.len() >= FRESH_KEPT {
                self.fresh.clear();
                self.overflowed = true;
            }
            self.fresh.push_back(header.clone());
        }
        // Compiled runtimes of old eras go; their blocks are refused from then on.
        let loaded = self
            .eras
            .iter()
            .filter(|e| matches!(e.runtime, EraRuntime::Loaded(_)))
            .count();
        let mut excess = loaded.saturating_sub(RUNTIMES_KEPT);
        for era in &mut self.eras {
            if excess == 0 {
                break;
            }
            if matches!(era.runtime, EraRuntime::Loaded(_)) {
                era.runtime = EraRuntime::Forgotten;
                excess -= 1;
            }
        }
    }

    /// The blocks proven since the last call, oldest first.
    pub fn take_fresh(&mut self) -> Fresh {
        if std::mem::take(&mut self.overflowed) {
            self.fresh.clear();
            return Fresh::Overflowed;
        }
        Fresh::Blocks(self.fresh.drain(..).collect())
    }

    fn era_index(&self, number: u64) -> Option<usize> {
        self.eras.iter().rposition(|era| era.since <= number)
    }

    /// The era of the finalized block when its runtime is still to be read: the block to read
    /// `:code` at (the finalized one: endpoints keep recent state).
    pub fn runtime_wanted(&self) -> Option<VerifiedHeader> {
        let era = self.eras.last()?;
        matches!(era.runtime, EraRuntime::Unread(_)).then(|| self.finalized().clone())
    }

    /// The outcome of reading `:code` and `:heappages` at `block` (what [`runtime_wanted`] named):
    /// the proven values, or why they could not be had.
    ///
    /// [`runtime_wanted`]: Follower::runtime_wanted
    pub fn runtime_read(&mut self, block: &VerifiedHeader, values: RuntimeValues) {
        let Some(index) = self.era_index(block.number) else {
            return;
        };
        let since = self.eras.get(index).map_or(block.number, |e| e.since);
        let outcome = match values {
            Err(why) => EraRuntime::Unread(format!(
                "the runtime in force since block #{since} could not be read: {why}"
            )),
            Ok((None, _)) => EraRuntime::Refused(format!(
                "the proven state at block #{} has no :code",
                block.number
            )),
            Ok((Some(code), heap_pages)) => match Runtime::new(&code, heap_pages.as_deref()) {
                Ok(runtime) => EraRuntime::Loaded(Box::new(runtime)),
                Err(error) => EraRuntime::Refused(format!(
                    "the runtime in force since block #{since} cannot be used: {error}"
                )),
            },
        };
        if let Some(era) = self.eras.get_mut(index) {
            era.runtime = outcome;
        }
    }

    /// The runtime in force at the finalized block, once loaded.
    pub fn current_runtime(&self) -> Option<&Runtime> {
        match &self.eras.last()?.runtime {
            EraRuntime::Loaded(runtime) => Some(runtime),
            _ => None,
        }
    }

    /// Why the runtime in force at the finalized block is not loaded, if it is not.
    pub fn runtime_problem(&self) -> Option<String> {
        self.readable(self.finalized().number).err()
    }

    /// Whether state at block `number` may be read: only with the runtime in force there known,
    /// since its metadata is what the state is decoded by.
    pub fn readable(&self, number: u64) -> Result<(), String> {
        let era = self
            .era_index(number)
            .and_then(|i| self.eras.get(i))
            .ok_or_else(|| format!("block #{number} is before the checkpoint"))?;
        let refused = |why: &str| {
            Err(if era.since > self.eras.first().map_or(0, |e| e.since) {
                format!(
                    "{why}. Reads and calls at or after block #{} are refused rather than \
                     answered by the old runtime",
                    era.since
                )
            } else {
                why.to_string()
            })
        };
        match &era.runtime {
            EraRuntime::Loaded(_) => Ok(()),
            EraRuntime::Unread(why) | EraRuntime::Refused(why) => refused(why),
            EraRuntime::Forgotten => refused(&format!(
                "the runtime in force at block #{number} is no longer kept; read at a newer block"
            )),
        }
    }

    /// The runtime in force at block `number`, when it may be used.
    pub fn runtime_at(&self, number: u64) -> Result<&Runtime, String> {
        self.readable(number)?;
        match self
            .era_index(number)
            .and_then(|i| self.eras.get(i))
            .map(|e| &e.runtime)
        {
            Some(EraRuntime::Loaded(runtime)) => Ok(runtime),
            _ => Err("another call is running".into()),
        }
    }

    /// The runtime in force at block `number`, taken out for a call ([`Follower::put_runtime`]
    /// gives it back).
    pub fn take_runtime(&mut self, number: u64) -> Result<Box<Runtime>, String> {
        self.readable(number)?;
        let era = self
            .era_index(number)
            .and_then(|i| self.eras.get_mut(i))
            .ok_or_else(|| "no runtime".to_string())?;
        match std::mem::replace(
            &mut era.runtime,
            EraRuntime::Unread("another call is running".into()),
        ) {
            EraRuntime::Loaded(runtime) => Ok(runtime),
            other => {
                era.runtime = other;
                Err("another call is running".into())
            }
        }
    }

    pub fn put_runtime(&mut self, number: u64, runtime: Box<Runtime>) {
        if let Some(era) = self.era_index(number).and_then(|i| self.eras.get_mut(i)) {
            era.runtime = EraRuntime::Loaded(runtime);
        }
    }

    /// The checkpoint to start from next time: the finalized block and its set.
    pub fn checkpoint(&self, created_at_ms: u64, source: String) -> Option<Checkpoint> {
        self.finality.checkpoint(created_at_ms, source)
    }
}
