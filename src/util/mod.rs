//! Small helpers shared by the server: argument splitting, glob matching, number formats, and the
//! operating system facts that nix gives (`sys`).

pub mod fd_limit;
pub mod glob;
pub mod histogram;
pub mod lzf;
pub mod numbers;
pub mod pqsort;
pub mod sha256;
pub mod splitargs;
pub mod sys;
pub mod time;
