//! The libp2p side: TCP and WebSocket listeners (noise, yamux, multistream-select) by litep2p,
//! the networking stack Substrate nodes themselves run, and one loop that answers the light
//! client protocols from the chain and gossips new blocks and their finality.
//!
//! Why litep2p and not smoldot's own `libp2p::collection`, which the rest of this crate leans
//! on: smoldot 5.0.0, as the *answering* side, puts a response and its yamux FIN in one frame,
//! and smoldot, as the *asking* side, loses such a response when its length prefix takes two
//! bytes (128 bytes or more): it gives the substream one byte, sees the FIN, and reports
//! `SubstreamClosed`. Substrate's stacks send the FIN in a frame of its own, so smoldot-light
//! never meets the case in the wild; a node of ours built on smoldot's collection met it on
//! every warp-sync answer. litep2p behaves like the nodes smoldot-light is written against.
//!
//! litep2p runs on tokio, the rest of this node on smol: the loop has a thread and a
//! current-thread tokio runtime of its own and reaches the chain through the same `Node` lock
//! as the JSON-RPC server. Every peer is untrusted: a malformed request is refused (logged) and
//! the substream closed; garbage on a connection is litep2p's to drop. Nothing here panics on
//! what a peer sent, and nothing a peer does stops block authoring, which has its own thread.

use super::protocols::{self, ProtocolNames};
use crate::node::Node;
use futures::StreamExt;
use litep2p::config::ConfigBuilder;
use litep2p::crypto::ed25519::{Keypair, SecretKey};
use litep2p::protocol::libp2p::{identify, ping};
use litep2p::protocol::notification::{
    self, NotificationEvent, NotificationHandle, ValidationResult,
};
use litep2p::protocol::request_response::{self, RequestResponseEvent, RequestResponseHandle};
use litep2p::transport::{tcp, websocket};
use litep2p::types::protocol::ProtocolName;
use litep2p::{Litep2p, Litep2pEvent, PeerId};
use smol::channel::Receiver;
use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use taoscope_light_client::hashing::blake2_256;
use taoscope_light_client::keys::DEV_SEED;

/// Largest request accepted from a peer, and largest answer sent (a warp-sync proof or a
/// 128-block response with bodies stays far below).
const MAX_REQUEST: usize = 1024 * 1024;
const MAX_RESPONSE: usize = 16 * 1024 * 1024;
const MAX_NOTIFICATION: usize = 16 * 1024 * 1024;

/// A request the node has not answered in this time is dropped by the peer anyway.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

/// The role byte of GRANDPA's and transactions' handshakes: an authority (Substrate's `Roles`).
const ROLE_AUTHORITY: u8 = 0b100;

/// Where to listen: one host, a TCP port and a WebSocket port (0: any free port).
#[derive(Clone, Copy, Debug)]
pub struct Listen {
    pub host: IpAddr,
    pub tcp_port: u16,
    pub ws_port: u16,
}

/// The node's libp2p identity: an ed25519 key derived from the development seed, so that the
/// peer id (and the multiaddrs clients are given) stay the same across restarts.
fn development_keypair() -> Result<Keypair, String> {
    let seed = blake2_256(&[&b"taoscope-localnet libp2p"[..], &DEV_SEED].concat());
    let secret = SecretKey::try_from_bytes(seed).map_err(|e| format!("libp2p key: {e}"))?;
    Ok(Keypair::from(secret))
}

/// Starts the peer-to-peer side on a thread of its own and returns, once it listens, its
/// multiaddrs (each ending in `/p2p/<peer id>`): TCP first, then WebSocket. `new_blocks` says
/// when a block was authored (and, on this chain, finalized).
pub fn start(
    node: Arc<Node>,
    listen: Listen,
    new_blocks: Receiver<()>,
) -> Result<Vec<String>, String> {
    let (ready, listening) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("p2p".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready.send(Err(format!("p2p runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                match Network::new(node, listen) {
                    Ok((network, addresses)) => {
                        let _ = ready.send(Ok(addresses));
                        network.run(new_blocks).await;
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| format!("p2p thread: {e}"))?;
    listening
        .recv()
        .map_err(|_| "the p2p thread ended before it listened".to_string())?
}

/// The protocols' handles, and which peers have which notification substreams open.
struct Network {
    node: Arc<Node>,
    litep2p: Litep2p,
    block_announces: NotificationHandle,
    grandpa: NotificationHandle,
    transactions: NotificationHandle,
    sync: RequestResponseHandle,
    light: RequestResponseHandle,
    warp_sync: RequestResponseHandle,
    identify: Box<dyn futures::Stream<Item = identify::IdentifyEvent> + Send + Unpin>,
    announcing_to: HashSet<PeerId>,
    gossiping_to: HashSet<PeerId>,
}

impl Network {
    fn new(node: Arc<Node>, listen: Listen) -> Result<(Self, Vec<String>), String> {
        let (names, handshake) = {
            let state = node.lock();
            (
                ProtocolNames::of(&state.chain.genesis().hash),
                protocols::block_announces_handshake(&state.chain),
            )
        };
        let notifications = |name: &str, handshake: Vec<u8>| {
            notification::ConfigBuilder::new(ProtocolName::from(name.to_string()))
                .with_max_size(MAX_NOTIFICATION)
                .with_handshake(handshake)
                .with_auto_accept_inbound(true)
                .build()
        };
        let requests = |name: &str| {
            request_response::ConfigBuilder::new(ProtocolName::from(name.to_string()))
                .with_max_size(MAX_RESPONSE.max(MAX_REQUEST))
                .with_timeout(REQUEST_TIMEOUT)
                .build()
        };
        let (announces_config, block_announces) = notifications(&names.block_announces, handshake);
        let (grandpa_config, grandpa) = notifications(&names.grandpa, vec![ROLE_AUTHORITY]);
        let (transactions_config, transactions) =
            notifications(&names.transactions, vec![ROLE_AUTHORITY]);
        let (sync_config, sync) = requests(&names.sync);
        let (light_config, light) = requests(&names.light);
        let (warp_config, warp_sync) = requests(&names.warp_sync);
        let (identify_config, identify) = identify::Config::new(
            "/substrate/1.0".into(),
            Some(concat!("taoscope-localnet/", env!("CARGO_PKG_VERSION")).into()),
        );

        let ip = match listen.host {
            IpAddr::V4(ip) => format!("/ip4/{ip}"),
            IpAddr::V6(ip) => format!("/ip6/{ip}"),
        };
        let address = |suffix: String| {
            suffix
                .parse()
                .map_err(|e| format!("listen address {suffix}: {e}"))
        };
        let config = ConfigBuilder::new()
            .with_keypair(development_keypair()?)
            .with_tcp(tcp::config::Config {
                listen_addresses: vec![address(format!("{ip}/tcp/{}", listen.tcp_port))?],
                ..Default::default()
            })
            .with_websocket(websocket::config::Config {
                listen_addresses: vec![address(format!("{ip}/tcp/{}/ws", listen.ws_port))?],
                ..Default::default()
            })
            .with_notification_protocol(announces_config)
            .with_notification_protocol(grandpa_config)
            .with_notification_protocol(transactions_config)
            .with_request_response_protocol(sync_config)
            .with_request_response_protocol(light_config)
            .with_request_response_protocol(warp_config)
            .with_libp2p_identify(identify_config)
            .with_libp2p_ping(ping::Config::default().0)
            .build();
        let litep2p = Litep2p::new(config).map_err(|e| format!("cannot start libp2p: {e}"))?;
        // TCP before WebSocket: the first bootnode is the one native clients try first.
        let mut addresses: Vec<String> =
            litep2p.listen_addresses().map(|a| a.to_string()).collect();
        addresses.sort_by_key(|a| a.contains("/ws"));
        Ok((
            Self {
                node,
                litep2p,
                block_announces,
                grandpa,
                transactions,
                sync,
                light,
                warp_sync,
                identify,
                announcing_to: HashSet::new(),
                gossiping_to: HashSet::new(),
            },
            addresses,
        ))
    }

    async fn run(mut self, new_blocks: Receiver<()>) {
        loop {
            tokio::select! {
                event = self.litep2p.next_event() => match event {
                    Some(Litep2pEvent::ConnectionEstablished { peer, endpoint }) => {
                        eprintln!("p2p: {peer} connected ({})", endpoint.address());
                    }
                    Some(Litep2pEvent::ConnectionClosed { peer, .. }) => {
                        eprintln!("p2p: {peer} disconnected");
                    }
                    Some(_) => {}
                    None => return,
                },
                Some(event) = self.block_announces.next() => {
                    track(&mut self.block_announces, &mut self.announcing_to, event, |_, _| {});
                }
                Some(event) = self.grandpa.next() => {
                    if let Some(peer) = track(&mut self.grandpa, &mut self.gossiping_to, event, |_, _| {}) {
                        let packet = self.neighbor_packet();
                        let _ = self.grandpa.send_sync_notification(peer, packet);
                    }
                }
                Some(event) = self.transactions.next() => {
                    let node = &self.node;
                    track(&mut self.transactions, &mut HashSet::new(), event, |peer, notification| {
                        submit_transactions(node, peer, notification)
                    });
                }
                Some(event) = self.sync.next() => answer(&self.node, &mut self.sync, event, Request::Blocks),
                Some(event) = self.light.next() => answer(&self.node, &mut self.light, event, Request::Light),
                Some(event) = self.warp_sync.next() => answer(&self.node, &mut self.warp_sync, event, Request::WarpSync),
                Some(_) = self.identify.next() => {}
                block = new_blocks.recv() => match block {
                    Ok(()) => self.new_block(),
                    Err(_) => return,
                },
            }
        }
    }

    /// Where GRANDPA stands, as gossiped: the last commit sent is for the parent of the best
    /// block (see `new_block`), in the round of its number.
    fn neighbor_packet(&self) -> Vec<u8> {
        let state = self.node.lock();
        let committed = state.chain.best().number.saturating_sub(1);
        protocols::grandpa_neighbor_packet(committed, state.chain.set_id_of(committed), committed)
    }

    /// A new best block: a new handshake for later peers, the announcement, and the GRANDPA
    /// commit of its parent.
    ///
    /// This chain finalizes every block as it is authored, but the commit goes out one block
    /// late, as on a live network where finality trails the head: smoldot-light validates a
    /// submitted transaction against the best block and drops the result when that block has
    /// meanwhile become final, so a head that is final at once would never let a transaction
    /// through. (Warp sync and block requests still serve every justification there is.)
    fn new_block(&mut self) {
        let (handshake, announce, commit) = {
            let state = self.node.lock();
            let best = state.chain.best();
            let commit = best
                .number
                .checked_sub(1)
                .and_then(|parent| state.chain.block(parent))
                .and_then(|parent| {
                    let set_id = state.chain.set_id_of(parent.number);
                    Some(protocols::grandpa_commit(
                        parent.justification.as_ref()?,
                        set_id,
                    ))
                });
            (
                protocols::block_announces_handshake(&state.chain),
                protocols::block_announce(best),
                commit,
            )
        };
        self.block_announces.set_handshake(handshake);
        // A peer too slow to take its notifications misses some; it catches up by request.
        for peer in &self.announcing_to {
            let _ = self
                .block_announces
                .send_sync_notification(*peer, announce.clone());
        }
        match commit {
            Some(Ok(commit)) => {
                let neighbor = self.neighbor_packet();
                for peer in &self.gossiping_to {
                    let _ = self.grandpa.send_sync_notification(*peer, neighbor.clone());
                    let _ = self.grandpa.send_sync_notification(*peer, commit.clone());
                }
            }
            Some(Err(e)) => eprintln!("p2p: no GRANDPA commit for the new block's parent: {e}"),
            None => {}
        }
    }
}

/// Accepts every peer's substream (a light client is welcome on every protocol), keeps `open`
/// to the peers whose substream is open, and hands each notification received to `received`.
/// Returns the peer whose substream has just opened.
fn track(
    handle: &mut NotificationHandle,
    open: &mut HashSet<PeerId>,
    event: NotificationEvent,
    mut received: impl FnMut(PeerId, &[u8]),
) -> Option<PeerId> {
    match event {
        // litep2p opens our substream back and sends our handshake once we accept.
        NotificationEvent::ValidateSubstream { peer, .. } => {
            handle.send_validation_result(peer, ValidationResult::Accept);
        }
        NotificationEvent::NotificationStreamOpened { peer, .. } => {
            open.insert(peer);
            return Some(peer);
        }
        NotificationEvent::NotificationStreamClosed { peer } => {
            open.remove(&peer);
        }
        NotificationEvent::NotificationStreamOpenFailure { peer, error } => {
            eprintln!("p2p: {peer}: notification substream not opened: {error:?}");
        }
        NotificationEvent::NotificationReceived { peer, notification } => {
            received(peer, &notification);
        }
    }
    None
}

#[derive(Clone, Copy)]
enum Request {
    Blocks,
    Light,
    WarpSync,
}

/// Answers one request from the chain, or refuses it (the peer sees the substream close) with
/// the reason logged.
fn answer(
    node: &Node,
    handle: &mut RequestResponseHandle,
    event: RequestResponseEvent,
    kind: Request,
) {
    let RequestResponseEvent::RequestReceived {
        peer,
        request_id,
        request,
        ..
    } = event
    else {
        return;
    };
    let answer = {
        let mut state = node.lock();
        let chain = &mut state.chain;
        match kind {
            Request::Blocks => protocols::answer_block_request(chain, &request),
            Request::Light => protocols::answer_light_request(chain, node.tries(), &request),
            Request::WarpSync => protocols::answer_warp_sync(chain, &request),
        }
    };
    match answer {
        Ok(response) => {
            if let Request::Light = kind {
                node.light_answered(response.len());
            }
            handle.send_response(request_id, response)
        }
        Err(e) => {
            eprintln!("p2p: {peer}: {e}");
            handle.reject_request(request_id);
        }
    }
}

/// Transactions gossiped by a peer (a light client submitting one) go to the pool; one the
/// runtime refuses is logged with its reason.
fn submit_transactions(node: &Node, peer: PeerId, notification: &[u8]) {
    use parity_scale_codec::{Decode, Encode};
    let Ok(list) = Vec::<Vec<u8>>::decode(&mut &notification[..]) else {
        eprintln!("p2p: {peer}: a transactions notification that does not decode");
        return;
    };
    let mut state = node.lock();
    let state = &mut *state;
    for body in list {
        // The gossip carries each transaction without its length prefix.
        if let Err(e) = state.pool.submit(&mut state.chain, body.encode(), None) {
            eprintln!("p2p: {peer}: transaction refused: {e}");
        }
    }
}
