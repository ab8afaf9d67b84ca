//! maxmemory's choice of keys, as Redis 7.0's evict.c makes it: the eight policies; LRU, LFU and
//! TTL approximated the same way, by sampling `maxmemory-samples` keys per database into a pool of
//! the 16 best candidates kept across calls. Performing evictions (the time limit, the background
//! continuation, the refusal of commands) is the server's, in `server::eviction`.

use crate::keyspace::{access, Db, Entry};

/// EVPOOL_SIZE.
const POOL_SIZE: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    NoEviction,
}

impl Policy {
    /// The policy named by `maxmemory-policy` (the config parser only lets the eight names in).
    pub fn from_name(name: &str) -> Policy {
        match name {
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            _ => Policy::NoEviction,
        }
    }

    /// Whether any key may go, or only keys with a TTL.
    fn allkeys(self) -> bool {
        matches!(self, Policy::AllkeysLru | Policy::AllkeysLfu | Policy::AllkeysRandom)
    }

    /// Whether the policy ranks candidates through the pool (all but the random ones).
    fn ranks(self) -> bool {
        !matches!(self, Policy::AllkeysRandom | Policy::VolatileRandom | Policy::NoEviction)
    }

    /// How good a candidate `e` is: higher goes first. Idle milliseconds for LRU, 255 minus the
    /// decayed access counter for LFU, and for TTL the sooner the expiry the higher.
    fn score(self, e: &Entry) -> u64 {
        match self {
            Policy::AllkeysLru | Policy::VolatileLru => access::idle_secs(e.access()) * 1000,
            Policy::AllkeysLfu | Policy::VolatileLfu => 255 - u64::from(access::lfu_decayed(e.access()).min(255)),
            _ => u64::MAX - e.expire_at().unwrap_or(u64::MAX),
        }
    }
}

/// An eviction candidate: a key name (the key may have gone since it was sampled).
struct Candidate {
    score: u64,
    key: Box<[u8]>,
    db: usize,
}

/// What persists between picks, like the pool and the random policies' next database among
/// Redis's statics in evict.c.
#[derive(Default)]
pub struct Picker {
    /// Ascending by score: the best candidate is last.
    pool: Vec<Candidate>,
    /// The database the random policies try next.
    next_db: usize,
}

impl Picker {
    /// The next key to evict by `policy` and its database, None when no key may go.
    pub fn pick(&mut self, dbs: &[Db], policy: Policy, samples: usize) -> Option<(usize, Box<[u8]>)> {
        if policy.ranks() {
            pick_ranked(&mut self.pool, dbs, policy, samples)
        } else {
            pick_random(&mut self.next_db, dbs, policy)
        }
    }
}

/// The LRU, LFU and TTL policies: refills the pool with samples from every database (so the choice
/// is not local to one), then takes the best candidate that still exists; when every candidate
/// turned out gone, samples again.
fn pick_ranked(pool: &mut Vec<Candidate>, dbs: &[Db], policy: Policy, samples: usize) -> Option<(usize, Box<[u8]>)> {
    let allkeys = policy.allkeys();
    loop {
        let mut total_keys = 0;
        for (i, db) in dbs.iter().enumerate() {
            let keys = if allkeys { db.len() } else { db.volatile_len() };
            if keys == 0 {
                continue;
            }
            for e in db.sample(samples, !allkeys) {
                pool_insert(pool, Candidate { score: policy.score(e), key: e.key().into(), db: i });
            }
            total_keys += keys;
        }
        if total_keys == 0 {
            return None;
        }
        while let Some(c) = pool.pop() {
            let live = dbs[c.db].get_raw(&c.key).is_some_and(|e| allkeys || e.expire_at().is_some());
            if live {
                return Some((c.db, c.key));
            }
        }
    }
}

/// evictionPoolPopulate's insertion: in score order, before the candidates of equal score; when
/// the pool is full, a candidate worse than all of them is dropped, otherwise the worst one goes.
fn pool_insert(pool: &mut Vec<Candidate>, c: Candidate) {
    let k = pool.iter().position(|p| p.score >= c.score).unwrap_or(pool.len());
    if pool.len() < POOL_SIZE {
        pool.insert(k, c);
    } else if k > 0 {
        pool.remove(0);
        pool.insert(k - 1, c);
    }
}

/// The random policies: a random key of the next database (in turn) that has one.
fn pick_random(next_db: &mut usize, dbs: &[Db], policy: Policy) -> Option<(usize, Box<[u8]>)> {
    let n = dbs.len();
    for _ in 0..n {
        *next_db = next_db.wrapping_add(1);
        let j = *next_db % n;
        let e = if policy.allkeys() { dbs[j].random_key() } else { dbs[j].random_volatile_key() };
        if let Some(e) = e {
            return Some((j, e.key().into()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{Ttl, Value};

    fn cand(score: u64, key: &str) -> Candidate {
        Candidate { score, key: key.as_bytes().into(), db: 0 }
    }

    fn scores(pool: &[Candidate]) -> Vec<u64> {
        pool.iter().map(|c| c.score).collect()
    }

    #[test]
    fn pool_keeps_the_sixteen_best_in_order() {
        let mut pool = Vec::new();
        for s in [5, 1, 9, 3] {
            pool_insert(&mut pool, cand(s, "k"));
        }
        assert_eq!(scores(&pool), [1, 3, 5, 9]);
        for s in 10..30 {
            pool_insert(&mut pool, cand(s, "k"));
        }
        assert_eq!(pool.len(), POOL_SIZE);
        assert_eq!(scores(&pool), (14..30).collect::<Vec<u64>>());
        // Worse than everything in a full pool: dropped.
        pool_insert(&mut pool, cand(2, "low"));
        assert_eq!(pool[0].score, 14);
        // In the middle: the worst goes.
        pool_insert(&mut pool, cand(20, "mid"));
        assert_eq!(pool[0].score, 15);
        assert_eq!(pool.iter().filter(|c| c.score == 20).count(), 2);
        assert_eq!(&*pool[5].key, b"mid");
    }

    #[test]
    fn ranked_picks_follow_the_policy() {
        let mut dbs = vec![Db::new(), Db::new()];
        for i in 0..50u64 {
            dbs[0].set(format!("p{i}").as_bytes(), Value::Int(1), Ttl::Clear);
            dbs[1].set(format!("v{i}").as_bytes(), Value::Int(1), Ttl::At(1_000_000 + i * 1000));
        }
        let mut pool = Vec::new();
        // volatile-ttl never offers a key without a TTL, and prefers the soonest expiry.
        let mut picked = Vec::new();
        for _ in 0..10 {
            let (db, key) = pick_ranked(&mut pool, &dbs, Policy::VolatileTtl, 64).unwrap();
            assert_eq!(db, 1);
            dbs[1].remove(&key);
            picked.push(String::from_utf8(key.into_vec()).unwrap());
        }
        let expected: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
        assert_eq!(picked, expected);
        // No volatile key anywhere: nothing to pick.
        dbs[1] = Db::new();
        pool.clear();
        assert!(pick_ranked(&mut pool, &dbs, Policy::VolatileLru, 5).is_none());
        assert!(pick_ranked(&mut pool, &dbs, Policy::AllkeysLru, 5).is_some());
        let mut next = 0;
        assert!(pick_random(&mut next, &dbs, Policy::VolatileRandom).is_none());
        assert_eq!(pick_random(&mut next, &dbs, Policy::AllkeysRandom).map(|(db, _)| db), Some(0));
    }
}
