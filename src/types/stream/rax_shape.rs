//! How many nodes Redis's rax would hold for a stream's node keys (XINFO STREAM's
//! radix-tree-nodes). The stream keeps its nodes in an ordered map, but the count is part of
//! the reply, so it is derived from the keys.
//!
//! For keys of equal length (16-byte big-endian IDs, none a prefix of another) rax keeps a
//! canonical shape whatever the order of inserts and removals: raxInsert splits a compressed
//! node exactly where keys diverge, and raxRemove frees the chain up to the first branch or key
//! and recompresses a branch left with one child. So the tree has a node at the head, at every
//! branch (a position where keys diverge), under each branch one node per distinct next byte,
//! and a leaf per key; a chain of single-child positions between these is one compressed node.

use super::id::StreamId;

/// The rax node count (rax->numnodes) for these keys, given in ascending order.
pub fn rax_node_count(keys: &[StreamId]) -> usize {
    let keys: Vec<[u8; 16]> = keys.iter().map(|k| k.to_be_bytes()).collect();
    if keys.is_empty() {
        return 1;
    }
    subtree(&keys, 0)
}

/// Nodes of the subtree that starts with a node at `depth`, over keys sharing `depth` bytes.
fn subtree(keys: &[[u8; 16]], depth: usize) -> usize {
    if keys.len() == 1 {
        // A compressed node for the rest of the key, then the leaf; or the leaf alone.
        return if depth == 16 { 1 } else { 2 };
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    let common = (depth..16).find(|&i| first[i] != last[i]).unwrap_or(16);
    // A compressed node down to the branch, when the keys share more bytes.
    let chain = usize::from(common > depth);
    let mut count = chain + 1;
    let mut at = 0;
    while at < keys.len() {
        let byte = keys[at][common];
        let end = at + keys[at..].iter().take_while(|k| k[common] == byte).count();
        count += subtree(&keys[at..end], common + 1);
        at = end;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_rax_for_small_trees() {
        assert_eq!(rax_node_count(&[]), 1);
        assert_eq!(rax_node_count(&[StreamId::new(1, 0)]), 2);
        // Diverging at the last byte: the compressed prefix, the branch, two leaves.
        assert_eq!(rax_node_count(&[StreamId::new(1, 0), StreamId::new(1, 1)]), 4);
        // Diverging inside the sequence: prefix, branch, two compressed tails, two leaves.
        assert_eq!(rax_node_count(&[StreamId::new(1, 0), StreamId::new(1, 256)]), 6);
        // Three keys under one branch: prefix, branch, three leaves.
        assert_eq!(rax_node_count(&[StreamId::new(1, 0), StreamId::new(1, 1), StreamId::new(1, 2)]), 5);
    }
}
