//! The peer-to-peer side, for light clients. [`protocols`] is the sans-I/O part: what this
//! node answers on Substrate's request-response and notification protocols. The libp2p
//! connection loop that carries them is on branch `wip/localnet-p2p` (see ARCHITECTURE.md:
//! smoldot 5.0.0's listener-side responses of 128 bytes or more do not arrive).

pub mod network;
pub mod protocols;
