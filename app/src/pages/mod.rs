pub mod epoch_lab;
pub mod system;
