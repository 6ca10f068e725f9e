//! The RFC 9162 (§2.1) Merkle tree over the log, with SHA-256: hashing, the
//! append-only frontier, proof generation over stored nodes, and proof verification.
//!
//! The i-th leaf's data is the 32-byte `event_hash` of event i (FORMAT v1 §3). The
//! frontier keeps only the right edge of the tree, so appending costs O(log n) hashes
//! and no reads; every complete node it forms is handed back so that storage can keep
//! it, and proofs for any earlier size are then built from O(log n) stored nodes.
//!
//! This module must never do IO, read a clock or panic on any input: a bad argument,
//! a damaged frontier or a hostile proof is an error value. Verification follows
//! RFC 9162 §2.1.3.2 and §2.1.4.2 step by step, with one addition taken from the
//! reference Go library: two equal sizes are consistent when the proof is empty and
//! the roots are equal.

use sha2::{Digest, Sha256};

use crate::Hash;

/// The most complete subtrees a frontier can hold: one per bit of a `u64` size.
const MAX_LEVELS: usize = 64;

/// The version byte that starts the frontier's persisted form.
const FRONTIER_VERSION: u8 = 1;

/// The leaf hash `SHA-256(0x00 ‖ event_hash)` of one event.
pub fn leaf_hash(event_hash: &Hash) -> Hash {
    leaf_hash_of_data(event_hash)
}

/// The leaf hash `SHA-256(0x00 ‖ data)` of leaf data of any length. The ledger's leaves
/// are always 32-byte event hashes; other lengths occur in public test vectors.
pub fn leaf_hash_of_data(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    hasher.finalize().into()
}

/// The interior node hash `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Turns bytes read from outside (JSON, base64, a file) into a hash, refusing any
/// length other than 32 so that a short or long value can never reach a comparison.
pub fn hash_from_slice(what: &'static str, bytes: &[u8]) -> Result<Hash, VerifyError> {
    Hash::try_from(bytes).map_err(|_| VerifyError::HashLength {
        what,
        len: bytes.len(),
    })
}

/// Read access to stored complete subtrees, implemented by the storage layer.
///
/// A complete subtree is addressed by `(level, index)` and covers the leaves
/// `[index << level, (index + 1) << level)`; level 0 is a leaf hash. Proof functions
/// only ask for subtrees that are complete within the size they were given.
pub trait NodeSource {
    /// Why a node could not be read (missing, IO failure, damage).
    type Error;

    /// The hash of the complete subtree at `(level, index)`.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

impl<T: NodeSource + ?Sized> NodeSource for &T {
    type Error = T::Error;

    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        (**self).node(level, index)
    }
}

/// Why the frontier could not grow or could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrontierError {
    /// The size is a `u64`, so the tree cannot hold more than 2^64 - 1 leaves.
    #[error("the Merkle tree already holds 2^64 - 1 leaves and cannot take another")]
    Full,
    /// The persisted bytes are shorter than the version byte and the size.
    #[error(
        "the stored frontier is {len} bytes long, too short for its version byte and 8-byte size"
    )]
    Truncated { len: usize },
    /// The persisted bytes were written by a format this code does not know.
    #[error(
        "the stored frontier has version {found}; only version {FRONTIER_VERSION} is understood"
    )]
    UnknownVersion { found: u8 },
    /// The number of stored hashes does not match the set bits of the stored size.
    #[error("the stored frontier for size {size} is {len} bytes long, but that size needs {expected} bytes")]
    WrongLength {
        size: u64,
        len: usize,
        expected: usize,
    },
}

/// The right edge of the tree: the hashes of its maximal complete subtrees, largest
/// (leftmost) first, one for each set bit of the size.
///
/// This is all the state needed to append leaves and to compute the current root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    /// How many leaves the tree holds.
    size: u64,
    /// One hash per set bit of `size`, from the highest bit to the lowest.
    nodes: Vec<Hash>,
}

impl Frontier {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many leaves the tree holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The RFC 9162 root for the current size: the subtrees folded from the right.
    pub fn root(&self) -> Hash {
        let mut subtrees = self.nodes.iter().rev();
        match subtrees.next() {
            None => empty_root(),
            Some(last) => subtrees.fold(*last, |right, left| node_hash(left, &right)),
        }
    }

    /// The maximal complete subtrees as `(level, index, hash)`, largest first. Storage
    /// can compare them with its own nodes to check that both describe one tree.
    pub fn subtrees(&self) -> impl Iterator<Item = (u8, u64, Hash)> + '_ {
        let size = self.size;
        (0..MAX_LEVELS as u8)
            .rev()
            .filter(move |&level| size >> level & 1 == 1)
            .zip(self.nodes.iter())
            .map(move |(level, hash)| (level, (size >> level) - 1, *hash))
    }

    /// Appends the leaf for `event_hash` and returns every complete node it formed,
    /// as `(level, index, hash)` from the leaf (level 0) upwards, for storage to keep.
    pub fn push(&mut self, event_hash: Hash) -> Result<Vec<(u8, u64, Hash)>, FrontierError> {
        let mut formed = Vec::with_capacity(self.size.trailing_ones() as usize + 1);
        self.push_with(event_hash, |level, index, hash| {
            formed.push((level, index, *hash))
        })?;
        Ok(formed)
    }

    /// Appends the leaf for `event_hash`, calling `on_node` for every complete node it
    /// formed instead of collecting them, so the append path need not allocate.
    pub fn push_with(
        &mut self,
        event_hash: Hash,
        on_node: impl FnMut(u8, u64, &Hash),
    ) -> Result<(), FrontierError> {
        self.push_leaf_hash_with(leaf_hash(&event_hash), on_node)
    }

    /// Appends a leaf whose leaf hash is already computed (for leaf data that is not
    /// an event hash, as in public test vectors).
    pub fn push_leaf_hash_with(
        &mut self,
        leaf_hash: Hash,
        mut on_node: impl FnMut(u8, u64, &Hash),
    ) -> Result<(), FrontierError> {
        let new_size = self.size.checked_add(1).ok_or(FrontierError::Full)?;
        // Each trailing one bit of the old size is a complete subtree of the same
        // height as the one being formed, directly to its left: the last `merges`
        // nodes are merged into it. The nodes always match the set bits of the size
        // (from_bytes checks this); the check keeps a damaged value from panicking.
        let merges = self.size.trailing_ones() as usize;
        let keep = self
            .nodes
            .len()
            .checked_sub(merges)
            .ok_or(FrontierError::WrongLength {
                size: self.size,
                len: 9 + 32 * self.nodes.len(),
                expected: 9 + 32 * self.size.count_ones() as usize,
            })?;
        let mut hash = leaf_hash;
        let mut index = self.size;
        let mut level = 0u8;
        on_node(level, index, &hash);
        for left in self.nodes.drain(keep..).rev() {
            hash = node_hash(&left, &hash);
            level += 1;
            index >>= 1;
            on_node(level, index, &hash);
        }
        self.nodes.push(hash);
        self.size = new_size;
        Ok(())
    }

    /// The persisted form: a version byte, the size as u64 little-endian, then the
    /// subtree hashes, largest first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + 32 * self.nodes.len());
        out.push(FRONTIER_VERSION);
        out.extend_from_slice(&self.size.to_le_bytes());
        for node in &self.nodes {
            out.extend_from_slice(node);
        }
        out
    }

    /// Reads the persisted form back, checking the version and that the number of
    /// hashes matches the size.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FrontierError> {
        let truncated = FrontierError::Truncated { len: bytes.len() };
        let (&version, rest) = bytes.split_first().ok_or(truncated.clone())?;
        if version != FRONTIER_VERSION {
            return Err(FrontierError::UnknownVersion { found: version });
        }
        let (size_bytes, hashes) = rest.split_first_chunk::<8>().ok_or(truncated)?;
        let size = u64::from_le_bytes(*size_bytes);
        let expected = 9 + 32 * size.count_ones() as usize;
        if bytes.len() != expected {
            return Err(FrontierError::WrongLength {
                size,
                len: bytes.len(),
                expected,
            });
        }
        let (chunks, _) = hashes.as_chunks::<32>();
        Ok(Self {
            size,
            nodes: chunks.to_vec(),
        })
    }
}

/// A node that a [`MemNodes`] does not hold, because the tree is not that large.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no complete subtree at level {level}, index {index} in the in-memory tree")]
pub struct MissingNode {
    pub level: u8,
    pub index: u64,
}

/// Every complete node of a tree, kept in memory: a [`NodeSource`] for tests and small
/// trees, built by pushing leaves through a [`Frontier`].
#[derive(Debug, Clone, Default)]
pub struct MemNodes {
    frontier: Frontier,
    /// `levels[l][i]` is the complete subtree `(l, i)`.
    levels: Vec<Vec<Hash>>,
}

impl MemNodes {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends the leaf for `event_hash`.
    pub fn push(&mut self, event_hash: Hash) -> Result<(), FrontierError> {
        self.push_leaf_hash(leaf_hash(&event_hash))
    }

    /// Appends a leaf whose leaf hash is already computed.
    pub fn push_leaf_hash(&mut self, leaf_hash: Hash) -> Result<(), FrontierError> {
        let levels = &mut self.levels;
        self.frontier
            .push_leaf_hash_with(leaf_hash, |level, _index, hash| {
                let level = usize::from(level);
                if levels.len() <= level {
                    levels.resize_with(level + 1, Vec::new);
                }
                // Nodes of one level are formed left to right, so `_index` is the
                // position this push lands on.
                if let Some(row) = levels.get_mut(level) {
                    row.push(*hash);
                }
            })
    }

    /// How many leaves the tree holds.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The root for the current size.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The frontier for the current size.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }
}

impl NodeSource for MemNodes {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.levels
            .get(usize::from(level))
            .and_then(|row| row.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

/// Why a proof could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ProofError<E> {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeAfterNewSize { old_size: u64, new_size: u64 },
    #[error(
        "a consistency proof from the empty tree proves nothing; the old size must be at least 1"
    )]
    OldSizeZero,
    #[error("could not read the Merkle node at level {level}, index {index}: {source}")]
    Source { level: u8, index: u64, source: E },
}

/// The largest power of two strictly below `n`, for `n >= 2` (RFC 9162's `k`).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])` for a non-empty range whose start is a multiple of a power of two
/// at least as large as the range: every range the RFC recursion visits is such a
/// range. It is split into aligned complete subtrees, largest first, which are then
/// folded from the right exactly as MTH splits; that is at most 64 lookups.
fn range_hash<S: NodeSource + ?Sized>(
    lo: u64,
    hi: u64,
    src: &S,
) -> Result<Hash, ProofError<S::Error>> {
    let mut parts: Vec<Hash> = Vec::with_capacity((hi - lo).count_ones() as usize);
    let mut start = lo;
    while start < hi {
        let fits = 63 - (hi - start).leading_zeros();
        let level = start.trailing_zeros().min(fits);
        let index = start >> level;
        let level_u8 = level as u8;
        let hash = src
            .node(level_u8, index)
            .map_err(|source| ProofError::Source {
                level: level_u8,
                index,
                source,
            })?;
        parts.push(hash);
        start += 1u64 << level;
    }
    let mut parts = parts.into_iter().rev();
    let last = parts.next().unwrap_or_else(empty_root);
    Ok(parts.fold(last, |right, left| node_hash(&left, &right)))
}

/// The root of the tree at `size` (which must not exceed the source's size), from at
/// most 64 stored nodes.
pub fn root_at<S: NodeSource + ?Sized>(size: u64, src: &S) -> Result<Hash, ProofError<S::Error>> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(0, size, src)
}

/// The RFC 9162 inclusion proof (`PATH(index, D[0:size])`) for the leaf at `index` in
/// the tree of `size` leaves, ordered from the leaf's sibling up to the root's child.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    index: u64,
    size: u64,
    src: &S,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // Walk down from the root, keeping the sibling of each subtree entered. Only the
    // first right-hand sibling can be incomplete, so this stays O(log n) lookups.
    let mut path = Vec::with_capacity(64);
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            path.push(range_hash(lo + k, hi, src)?);
            hi = lo + k;
        } else {
            path.push(range_hash(lo, lo + k, src)?);
            lo += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The RFC 9162 consistency proof (`PROOF(old_size, D[0:new_size])`) between two
/// sizes of the tree. Equal sizes give the empty proof.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    old_size: u64,
    new_size: u64,
    src: &S,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if old_size == 0 {
        return Err(ProofError::OldSizeZero);
    }
    if old_size > new_size {
        return Err(ProofError::OldSizeAfterNewSize { old_size, new_size });
    }
    // SUBPROOF(m, D[lo:hi], b) unrolled: `starts_at_root` is the RFC's `b`, true while
    // the old tree's root is itself a node of the new tree on the path walked.
    let mut proof = Vec::with_capacity(64);
    let (mut lo, mut hi) = (0u64, new_size);
    let mut starts_at_root = true;
    while old_size < hi {
        let k = split_point(hi - lo);
        if old_size - lo <= k {
            proof.push(range_hash(lo + k, hi, src)?);
            hi = lo + k;
        } else {
            proof.push(range_hash(lo, lo + k, src)?);
            lo += k;
            starts_at_root = false;
        }
    }
    if !starts_at_root {
        proof.push(range_hash(lo, hi, src)?);
    }
    proof.reverse();
    Ok(proof)
}

/// Why a proof did not verify. A failed verification is an expected outcome, so the
/// variants say what did not match rather than where the code stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("{what} is {len} bytes long; a SHA-256 hash is 32 bytes")]
    HashLength { what: &'static str, len: usize },
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the proof has {actual} hashes, but these tree sizes need exactly {expected}")]
    ProofLength { expected: usize, actual: usize },
    #[error("the inclusion proof does not lead to the expected root")]
    RootMismatch,
    #[error(
        "a consistency proof from the empty tree proves nothing; the old size must be at least 1"
    )]
    OldSizeZero,
    #[error("old tree size {old_size} is larger than new tree size {new_size}")]
    OldSizeAfterNewSize { old_size: u64, new_size: u64 },
    #[error(
        "the sizes are equal, so the consistency proof must be empty, but it has {len} hashes"
    )]
    EqualSizesNonEmptyProof { len: usize },
    #[error("the sizes are equal but the two roots differ")]
    EqualSizesDifferentRoots,
    #[error("the consistency proof does not lead to the old root")]
    OldRootMismatch,
    #[error("the consistency proof does not lead to the new root")]
    NewRootMismatch,
}

/// How many proof hashes the RFC 9162 verification loop consumes from `(fn, sn)`
/// before `sn` reaches 0: the same walk as the loop, without hashing, so a proof of
/// the wrong length is reported as such before any hashing.
fn walk_len(mut first: u64, mut second: u64) -> usize {
    let mut steps = 0;
    while second != 0 {
        if first & 1 == 1 || first == second {
            while first & 1 == 0 && first != 0 {
                first >>= 1;
                second >>= 1;
            }
        }
        first >>= 1;
        second >>= 1;
        steps += 1;
    }
    steps
}

/// The root that an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1 to 4), for
/// callers who need to show it; [`verify_inclusion`] compares it with the root.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
) -> Result<Hash, VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let expected = walk_len(fn_, sn);
    if proof.len() != expected {
        return Err(VerifyError::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let mut r = *leaf_hash;
    for p in proof {
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    Ok(r)
}

/// Checks that `leaf_hash` is the leaf at `index` of the tree of `size` leaves whose
/// root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    if root_from_inclusion_proof(index, size, leaf_hash, proof)? == *root {
        Ok(())
    } else {
        Err(VerifyError::RootMismatch)
    }
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root` (RFC 9162 §2.1.4.2).
///
/// Beyond the RFC, which is written for `0 < old_size < new_size`: equal sizes verify
/// with an empty proof and equal roots, and an old size of 0 is always refused.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    if old_size == 0 {
        return Err(VerifyError::OldSizeZero);
    }
    if old_size > new_size {
        return Err(VerifyError::OldSizeAfterNewSize { old_size, new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(VerifyError::EqualSizesNonEmptyProof { len: proof.len() });
        }
        if old_root != new_root {
            return Err(VerifyError::EqualSizesDifferentRoots);
        }
        return Ok(());
    }
    // Step 2: when the old size is a power of two, its root is a node of the new tree
    // and the proof leaves it out, so it becomes the starting hash.
    let prepended = old_size.is_power_of_two();
    // Steps 3 and 4.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let expected = walk_len(fn_, sn) + usize::from(!prepended);
    if proof.len() != expected {
        return Err(VerifyError::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let (first, rest) = if prepended {
        (old_root, proof)
    } else {
        match proof.split_first() {
            Some(split) => split,
            None => {
                return Err(VerifyError::ProofLength {
                    expected,
                    actual: 0,
                })
            }
        }
    };
    // Steps 5 and 6.
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7; `sn == 0` holds because the length was checked against the same walk.
    if fr != *old_root {
        return Err(VerifyError::OldRootMismatch);
    }
    if sr != *new_root {
        return Err(VerifyError::NewRootMismatch);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;
