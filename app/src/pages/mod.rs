pub mod bench;
pub mod chain_audit;
pub mod epoch_lab;
pub mod network;
pub mod subnets;
pub mod system;
