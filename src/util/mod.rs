//! Small pure helpers shared by the server: argument splitting, glob matching, number formats.

pub mod glob;
pub mod histogram;
pub mod numbers;
pub mod splitargs;
pub mod time;
