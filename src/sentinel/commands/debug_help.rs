//! SENTINEL DEBUG (the time parameters) and SENTINEL HELP.

use super::super::timing::Timings;
use super::{bulk_num, bulk_str};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

/// SENTINEL DEBUG [<param> <ms> ...]: shows the time parameters, or sets them in order (the
/// first bad one stops there).
pub fn debug(timings: &mut Timings, args: &[String]) -> Reply {
    if args.is_empty() {
        return Reply::Map(timings.named().iter().map(|(name, v)| (bulk_str(name), bulk_num(v))).collect());
    }
    let mut j = 0;
    while j < args.len() {
        let option = &args[j];
        let (Some(field), Some(value)) = (timings.by_name(option), args.get(j + 1)) else {
            return Reply::error(format!("ERR Unknown option or number of arguments for SENTINEL DEBUG '{option}'"));
        };
        match parse_i64(value.as_bytes()).filter(|&v| v > 0) {
            Some(v) => *field = v as u64,
            None => return Reply::error(format!("ERR Invalid argument '{value}' for SENTINEL DEBUG '{option}'")),
        }
        j += 2;
    }
    Reply::OK
}

const HELP: [&str; 49] = [
    "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
    "HELP",
    "    Prints this help.",
];

/// SENTINEL HELP.
pub fn help() -> Reply {
    Reply::Array(HELP.iter().map(|line| Reply::status(line)).collect())
}
