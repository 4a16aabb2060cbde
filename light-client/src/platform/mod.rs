//! Where smoldot-light runs: the browser (this module) or natively (smoldot's own
//! `DefaultPlatform`, feature `native`). A platform gives the light client time, randomness,
//! tasks and connections; it sees bytes, never what they mean, so it holds no trust.

pub mod browser;
