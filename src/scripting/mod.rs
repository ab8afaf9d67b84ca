//! The Lua scripting engine of EVAL and FUNCTION: a Lua 5.1 VM set up as Redis 7.0 sets up its
//! own, the `redis` API, and the conversions between replies and Lua values. It knows nothing of
//! the server: the commands layer hands it a [`CommandRunner`] that executes `redis.call`.
