//! One light client for every widget of a page: the switchboard of the shared light worker.
//!
//! Widgets run in frames of the taoscope origin (`/embed/…`), and the frames of one browser that
//! follow the same network share one `SharedWorker`, so four widgets on a host page cost one
//! sync, not four. The worker's client serves one page; this switchboard makes many frames look
//! like one: each frame's request ids are mapped to ids unique in the worker and back, an answer
//! goes only to the frame that asked, what concerns every frame (the status, the metadata) goes
//! to all, and a frame's `Start` for the chain already followed joins it instead of restarting it.
//!
//! Threat model: a `SharedWorker` is reachable only from documents of its own origin, so every
//! frame here runs taoscope's own code; the host pages around the frames never reach it. The
//! switchboard guards against growth and mix-ups, not malice: its id table is bounded
//! ([`MAX_MAPPED`], oldest forgotten first), an answer whose request is forgotten is dropped,
//! and a frame's ids never reach another frame.
//!
//! Pure: ports are numbers here; the worker binary holds the `MessagePort`s.

use crate::chain_protocol::{ChainRequest, ChainResponse, ChainStatus, TransportChoice};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A frame connected to the worker.
pub type PortId = u32;

/// Requests remembered for their answers. A frame asks a few per finalized block, and the
/// answers come within a read's timeout, so thousands of requests back is long forgotten.
pub const MAX_MAPPED: usize = 4096;

/// What a frame posts when it goes away (not JSON: no request reads as it).
pub const BYE: &str = "bye";

#[derive(Default)]
pub struct Hub {
    ports: BTreeSet<PortId>,
    next_port: PortId,
    next_id: u32,
    /// The worker's id → the frame and the id it used.
    asked: BTreeMap<u32, (PortId, u32)>,
    /// A frame's id → the worker's (a `Submit` reuses its `Prepare`'s id).
    mapped: BTreeMap<(PortId, u32), u32>,
    order: VecDeque<u32>,
    /// What the chain followed was started with (see [`start_key`]).
    following: Option<String>,
    status: Option<ChainStatus>,
    /// Frames that asked for the client's database (its answer has no id).
    database: BTreeSet<PortId>,
}

/// A message for one frame.
pub type Outgoing = (PortId, ChainResponse);

impl Hub {
    /// A new frame.
    pub fn connect(&mut self) -> PortId {
        let port = self.next_port;
        self.next_port = self.next_port.wrapping_add(1);
        self.ports.insert(port);
        port
    }

    /// A frame went away: nothing more is sent to it, and its requests are forgotten.
    pub fn leave(&mut self, port: PortId) {
        self.ports.remove(&port);
        self.database.remove(&port);
        let asked = &mut self.asked;
        self.mapped.retain(|&(p, _), ours| {
            if p == port {
                asked.remove(ours);
            }
            p != port
        });
        self.order.retain(|ours| asked.contains_key(ours));
    }

    /// How many frames are connected.
    pub fn frames(&self) -> u32 {
        u32::try_from(self.ports.len()).unwrap_or(u32::MAX)
    }

    /// `request` from `port`: what to hand the client (if anything), and what to answer at once.
    pub fn inbound(
        &mut self,
        port: PortId,
        mut request: ChainRequest,
    ) -> (Option<ChainRequest>, Vec<Outgoing>) {
        if !self.ports.contains(&port) {
            return (None, Vec::new());
        }
        if let Some(key) = start_key(&request) {
            // A client that stopped (its chain refused, its start failed) is started again.
            let stopped = self
                .status
                .as_ref()
                .is_some_and(|s| s.phase == crate::chain_protocol::Phase::Failed);
            if self.following.as_ref() == Some(&key) && !stopped {
                // Joins the chain followed: the latest status, and the rest as it comes.
                let now = self.status().map(|s| (port, ChainResponse::Status(s)));
                return (None, now.into_iter().collect());
            }
            self.following = Some(key);
            self.status = None;
            return (Some(request), Vec::new());
        }
        if matches!(request, ChainRequest::Database) {
            // The answer goes to the frames that asked (each once), not to every frame.
            self.database.insert(port);
            return (Some(request), Vec::new());
        }
        if let Some(id) = request.id_mut() {
            *id = self.map(port, *id);
        }
        (Some(request), Vec::new())
    }

    /// Where the client's `response` goes.
    pub fn outbound(&mut self, mut response: ChainResponse) -> Vec<Outgoing> {
        if let ChainResponse::Status(status) = &response {
            self.status = Some(status.clone());
            let Some(status) = self.status() else {
                return Vec::new();
            };
            return self.to_all(&ChainResponse::Status(status));
        }
        if matches!(response, ChainResponse::Database { .. }) {
            let asked = std::mem::take(&mut self.database);
            return asked
                .into_iter()
                .filter(|p| self.ports.contains(p))
                .map(|p| (p, response.clone()))
                .collect();
        }
        match response.id_mut() {
            None => self.to_all(&response),
            Some(id) => match self.asked.get(id) {
                Some(&(port, theirs)) if self.ports.contains(&port) => {
                    *id = theirs;
                    vec![(port, response)]
                }
                _ => Vec::new(),
            },
        }
    }

    fn status(&self) -> Option<ChainStatus> {
        let mut status = self.status.clone()?;
        status.pages = self.frames();
        Some(status)
    }

    fn to_all(&self, response: &ChainResponse) -> Vec<Outgoing> {
        self.ports.iter().map(|&p| (p, response.clone())).collect()
    }

    fn map(&mut self, port: PortId, theirs: u32) -> u32 {
        if let Some(&ours) = self.mapped.get(&(port, theirs)) {
            return ours;
        }
        // Ids only grow: one the table has forgotten is never given to another request.
        self.next_id = self.next_id.wrapping_add(1);
        let ours = self.next_id;
        self.asked.insert(ours, (port, theirs));
        self.mapped.insert((port, theirs), ours);
        self.order.push_back(ours);
        while self.order.len() > MAX_MAPPED {
            if let Some(old) = self.order.pop_front()
                && let Some(key) = self.asked.remove(&old)
            {
                self.mapped.remove(&key);
            }
        }
        ours
    }
}

/// Which chain a `Start` follows, for frames to join one already followed: the endpoints and
/// genesis over verified RPC (frames may hold different resume points of the same chain), the
/// chain spec over p2p. `None` for any other request.
pub fn start_key(request: &ChainRequest) -> Option<String> {
    let ChainRequest::Start {
        chain_spec,
        transport,
        ..
    } = request
    else {
        return None;
    };
    Some(match transport {
        TransportChoice::P2p => format!("p2p {chain_spec}"),
        TransportChoice::VerifiedRpc {
            endpoints,
            genesis_hash,
            ..
        } => format!("rpc {genesis_hash} {}", endpoints.join(" ")),
    })
}
