//! The peer-to-peer side, for light clients. [`protocols`] is the sans-I/O part: what this
//! node answers on Substrate's request-response and notification protocols. The libp2p
//! connection loop (noise, yamux, multistream-select on smoldot's `libp2p::collection`) that
//! carries them comes next.

pub mod protocols;
