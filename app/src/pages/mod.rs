pub mod bench;
pub mod epoch_lab;
pub mod system;
