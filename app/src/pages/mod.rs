pub mod account;
pub mod audit;
pub mod bench;
pub mod epoch_lab;
pub mod home;
pub mod network;
pub mod subnets;
pub mod system;
