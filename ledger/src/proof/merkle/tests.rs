//! Tests of `merkle`.

#![allow(clippy::unwrap_used)]

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use proptest::prelude::*;
use serde::Deserialize;

use super::*;

/// The shared test vectors: `../shared/vectors` beside the project, or the folder
/// named by `ASSURE_VECTORS` when the modules are compiled outside the workspace.
/// A missing folder fails the test: vectors that are not read prove nothing.
pub(crate) fn vectors_dir() -> PathBuf {
    let dir = match std::env::var_os("ASSURE_VECTORS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors")),
    };
    assert!(
        dir.is_dir(),
        "the test vectors folder {} is missing; it should be shared/vectors beside the \
         project (or set ASSURE_VECTORS to its path)",
        dir.display()
    );
    dir
}

pub(crate) fn read_vector(relative: &str) -> Vec<u8> {
    let path = vectors_dir().join(relative);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("cannot read test vector {}: {e}", path.display()))
}

fn b64(text: &str) -> Vec<u8> {
    STANDARD
        .decode(text)
        .unwrap_or_else(|e| panic!("bad base64 {text:?} in a vector: {e}"))
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd-length hex {text:?}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
}

fn hashes(items: &[String]) -> Result<Vec<Hash>, VerifyError> {
    items
        .iter()
        .map(|item| hash_from_slice("a proof hash", &b64(item)))
        .collect()
}

// ---- a plain recursive reference, straight from RFC 9162 §2.1 ----

fn ref_split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn ref_mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = ref_split(n);
            node_hash(&ref_mth(&leaves[..k]), &ref_mth(&leaves[k..]))
        }
    }
}

fn ref_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = ref_split(n);
    let (mut path, sibling) = if m < k {
        (ref_path(m, &leaves[..k]), ref_mth(&leaves[k..]))
    } else {
        (ref_path(m - k, &leaves[k..]), ref_mth(&leaves[..k]))
    };
    path.push(sibling);
    path
}

fn ref_subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { Vec::new() } else { vec![ref_mth(leaves)] };
    }
    let k = ref_split(n);
    let (mut proof, other) = if m <= k {
        (ref_subproof(m, &leaves[..k], b), ref_mth(&leaves[k..]))
    } else {
        (
            ref_subproof(m - k, &leaves[k..], false),
            ref_mth(&leaves[..k]),
        )
    };
    proof.push(other);
    proof
}

fn ref_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    ref_subproof(m, leaves, true)
}

// ---- a shared tree of distinct leaves ----

const TREE: usize = 320;

fn event(i: usize) -> Hash {
    Sha256::digest((i as u64).to_le_bytes()).into()
}

struct Fixture {
    leaves: Vec<Hash>,
    nodes: MemNodes,
    roots: Vec<Hash>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut nodes = MemNodes::new();
        let mut roots = vec![empty_root()];
        for i in 0..TREE {
            nodes.push(event(i)).unwrap();
            roots.push(nodes.root());
        }
        let leaves = (0..TREE).map(|i| leaf_hash(&event(i))).collect();
        Fixture {
            leaves,
            nodes,
            roots,
        }
    })
}

/// Counts lookups, to hold proof generation to O(log n) reads.
struct Counting<S> {
    inner: S,
    lookups: Cell<usize>,
}

impl<S: NodeSource> NodeSource for Counting<S> {
    type Error = S::Error;
    fn node(&self, level: u8, index: u64) -> Result<Hash, S::Error> {
        self.lookups.set(self.lookups.get() + 1);
        self.inner.node(level, index)
    }
}

/// A tree of 2^64 - 1 equal leaves: every complete subtree of one level has the
/// same hash, so huge sizes can be checked without storing anything.
struct Uniform {
    by_level: Vec<Hash>,
}

impl Uniform {
    fn new() -> Self {
        let mut by_level = vec![leaf_hash(&[7; 32])];
        for level in 1..64 {
            let below = by_level[level - 1];
            by_level.push(node_hash(&below, &below));
        }
        Self { by_level }
    }
}

impl NodeSource for Uniform {
    type Error = MissingNode;
    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.by_level
            .get(usize::from(level))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

#[test]
fn frontier_roots_match_the_reference_for_every_size() {
    let f = fixture();
    for n in 0..=TREE {
        assert_eq!(f.roots[n], ref_mth(&f.leaves[..n]), "root at size {n}");
        assert_eq!(
            root_at(n as u64, &f.nodes).unwrap(),
            f.roots[n],
            "root_at {n}"
        );
    }
}

#[test]
fn push_reports_every_node_it_forms() {
    let f = fixture();
    let mut frontier = Frontier::new();
    for i in 0..TREE {
        let old_size = frontier.size();
        let formed = frontier.push(event(i)).unwrap();
        assert_eq!(formed.len(), old_size.trailing_ones() as usize + 1);
        for (level, index, hash) in formed {
            let start = (index << level) as usize;
            let end = ((index + 1) << level) as usize;
            assert_eq!(
                end,
                i + 1,
                "node ({level}, {index}) must end at the new leaf"
            );
            assert_eq!(hash, ref_mth(&f.leaves[start..end]));
        }
        for (level, index, hash) in frontier.subtrees() {
            let start = (index << level) as usize;
            assert_eq!(hash, ref_mth(&f.leaves[start..start + (1 << level)]));
        }
    }
}

#[test]
fn frontier_bytes_round_trip_and_damage_is_refused() {
    let mut frontier = Frontier::new();
    for i in 0..TREE {
        let bytes = frontier.to_bytes();
        assert_eq!(Frontier::from_bytes(&bytes).unwrap(), frontier);
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Frontier::from_bytes(&longer).is_err());
        assert!(Frontier::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        frontier.push(event(i)).unwrap();
    }
    let mut wrong_version = frontier.to_bytes();
    wrong_version[0] = 2;
    assert_eq!(
        Frontier::from_bytes(&wrong_version),
        Err(FrontierError::UnknownVersion { found: 2 })
    );
    assert!(Frontier::from_bytes(&[]).is_err());
}

#[test]
fn a_full_frontier_refuses_another_leaf() {
    let mut bytes = vec![FRONTIER_VERSION];
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    bytes.extend_from_slice(&[9; 32 * 64]);
    let mut frontier = Frontier::from_bytes(&bytes).unwrap();
    assert_eq!(frontier.push([1; 32]), Err(FrontierError::Full));
    assert_eq!(frontier.size(), u64::MAX);
    assert_eq!(frontier.subtrees().count(), 64);
}

#[test]
fn roots_json_vector() {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Roots {
        leaf_inputs: Vec<String>,
        leaf_hashes: Vec<String>,
        roots: Vec<Root>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Root {
        tree_size: usize,
        root: String,
    }
    let roots: Roots = serde_json::from_slice(&read_vector("rfc6962/roots.json")).unwrap();
    assert_eq!(roots.leaf_inputs.len(), 8);
    assert_eq!(roots.roots.len(), 9);
    let mut frontier = Frontier::new();
    let mut sizes_seen = 0;
    for (n, want) in roots.roots.iter().enumerate() {
        assert_eq!(want.tree_size, n);
        assert_eq!(
            frontier.root().to_vec(),
            unhex(&want.root),
            "root at size {n}"
        );
        sizes_seen += 1;
        if let Some(input) = roots.leaf_inputs.get(n) {
            let leaf = leaf_hash_of_data(&unhex(input));
            assert_eq!(leaf.to_vec(), unhex(&roots.leaf_hashes[n]), "leaf hash {n}");
            frontier.push_leaf_hash_with(leaf, |_, _, _| {}).unwrap();
        }
    }
    assert_eq!(sizes_seen, 9);
}

#[test]
fn rfc6962_inclusion_vectors() {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Case {
        leaf_idx: u64,
        tree_size: u64,
        root: String,
        leaf_hash: String,
        proof: Option<Vec<String>>,
        desc: String,
        want_err: bool,
    }
    let mut files = Vec::new();
    json_files(&vectors_dir().join("rfc6962/inclusion"), &mut files);
    assert_eq!(files.len(), 98, "expected 98 inclusion vectors");
    let mut passing = 0;
    for path in &files {
        let case: Case = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let result = (|| {
            let leaf = hash_from_slice("the leaf hash", &b64(&case.leaf_hash))?;
            let root = hash_from_slice("the root", &b64(&case.root))?;
            let proof = hashes(&case.proof.clone().unwrap_or_default())?;
            let computed = root_from_inclusion_proof(case.leaf_idx, case.tree_size, &leaf, &proof);
            if !case.want_err {
                assert_eq!(computed.clone()?, root, "{}", path.display());
            }
            verify_inclusion(case.leaf_idx, case.tree_size, &leaf, &proof, &root)
        })();
        assert_eq!(
            result.is_err(),
            case.want_err,
            "{} ({}): {result:?}",
            path.display(),
            case.desc
        );
        passing += usize::from(!case.want_err);
    }
    assert_eq!(passing, 6, "six inclusion vectors are valid proofs");
}

/// The one vector where we deliberately disagree with the Go library: equal sizes
/// with 12-byte "roots". Roots must be 32 bytes here, so it is refused.
const REFUSED_ON_PURPOSE: &str = "sizes-are-equal-one-and-proof-is-empty.json";

#[test]
fn rfc6962_consistency_vectors() {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Case {
        size1: u64,
        size2: u64,
        root1: String,
        root2: String,
        proof: Option<Vec<String>>,
        desc: String,
        want_err: bool,
    }
    let mut files = Vec::new();
    json_files(&vectors_dir().join("rfc6962/consistency"), &mut files);
    assert_eq!(files.len(), 98, "expected 98 consistency vectors");
    let mut passing = 0;
    for path in &files {
        let case: Case = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let result = (|| {
            let root1 = hash_from_slice("the old root", &b64(&case.root1))?;
            let root2 = hash_from_slice("the new root", &b64(&case.root2))?;
            let proof = hashes(&case.proof.clone().unwrap_or_default())?;
            verify_consistency(case.size1, case.size2, &root1, &root2, &proof)
        })();
        let refused_on_purpose = path.ends_with(format!("additional/{REFUSED_ON_PURPOSE}"));
        let want_err = case.want_err || refused_on_purpose;
        if refused_on_purpose {
            assert!(matches!(
                result,
                Err(VerifyError::HashLength { len: 12, .. })
            ));
        }
        assert_eq!(
            result.is_err(),
            want_err,
            "{} ({}): {result:?}",
            path.display(),
            case.desc
        );
        passing += usize::from(!want_err);
    }
    assert_eq!(
        passing, 5,
        "five consistency vectors verify (one refused on purpose)"
    );
}

#[test]
fn sumdb_argon2020_vector() {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Params {
        inclusion: Inclusion,
        consistency: Consistency,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Inclusion {
        leaf_index: u64,
        tree_size: u64,
        root: String,
        leaf_hash: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Consistency {
        old_size: u64,
        old_root: String,
        new_size: u64,
        new_root: String,
    }
    #[derive(Deserialize)]
    struct Entries {
        entries: Vec<Entry>,
    }
    #[derive(Deserialize)]
    struct Entry {
        leaf_input: String,
    }
    #[derive(Deserialize)]
    struct Sth {
        tree_size: u64,
        sha256_root_hash: String,
    }
    #[derive(Deserialize)]
    struct AuditPath {
        leaf_index: u64,
        audit_path: Vec<String>,
    }
    #[derive(Deserialize)]
    struct ConsistencyProof {
        consistency: Vec<String>,
    }
    let load = |name: &str| read_vector(&format!("sumdb-tlog/{name}"));
    let params: Params = serde_json::from_slice(&load("params.json")).unwrap();
    let entries: Entries = serde_json::from_slice(&load("argon2020/entries.json")).unwrap();
    let sth: Sth = serde_json::from_slice(&load("argon2020/sth.json")).unwrap();
    let path: AuditPath = serde_json::from_slice(&load("argon2020/proof.json")).unwrap();
    let cons: ConsistencyProof =
        serde_json::from_slice(&load("argon2020/consistency.json")).unwrap();

    let leaf = leaf_hash_of_data(&b64(&entries.entries[0].leaf_input));
    assert_eq!(leaf.to_vec(), b64(&params.inclusion.leaf_hash));
    let root = hash_from_slice("root", &b64(&sth.sha256_root_hash)).unwrap();
    assert_eq!(root.to_vec(), b64(&params.inclusion.root));
    let (index, size) = (path.leaf_index, sth.tree_size);
    assert_eq!(
        (index, size),
        (params.inclusion.leaf_index, params.inclusion.tree_size)
    );
    let audit = hashes(&path.audit_path).unwrap();
    assert_eq!(audit.len(), 30);
    verify_inclusion(index, size, &leaf, &audit, &root).unwrap();

    let c = &params.consistency;
    assert_eq!((c.new_size, b64(&c.new_root)), (size, root.to_vec()));
    let old_root = hash_from_slice("old root", &b64(&c.old_root)).unwrap();
    let proof = hashes(&cons.consistency).unwrap();
    assert_eq!(proof.len(), 30);
    verify_consistency(c.old_size, size, &old_root, &root, &proof).unwrap();

    // Mutations: every flipped bit, wrong positions and sizes, cut or padded proofs.
    for i in 0..audit.len() {
        let mut bad = audit.clone();
        bad[i][0] ^= 1;
        assert!(
            verify_inclusion(index, size, &leaf, &bad, &root).is_err(),
            "bit in {i}"
        );
    }
    for i in 0..proof.len() {
        let mut bad = proof.clone();
        bad[i][31] ^= 0x80;
        assert!(verify_consistency(c.old_size, size, &old_root, &root, &bad).is_err());
    }
    for (i, s) in [
        (index + 1, size),
        (index - 1, size),
        (index, size * 2),
        (index, size / 2),
    ] {
        assert!(
            verify_inclusion(i, s, &leaf, &audit, &root).is_err(),
            "({i}, {s})"
        );
    }
    // An inclusion proof alone does not fix the size: where another size gives the
    // same path shape (here size + 1), the same hashes lead to the same root. The
    // signed checkpoint binds size and root together, which is why proofs are
    // always checked against one.
    assert!(verify_inclusion(index, size + 1, &leaf, &audit, &root).is_ok());
    for (old, new) in [
        (c.old_size + 1, size),
        (c.old_size - 1, size),
        (c.old_size, size / 2),
    ] {
        assert!(
            verify_consistency(old, new, &old_root, &root, &proof).is_err(),
            "({old}, {new})"
        );
    }
    // As above, a new size with the same proof shape is not caught by the proof.
    assert!(verify_consistency(c.old_size, size - 1, &old_root, &root, &proof).is_ok());
    let cut = &audit[..audit.len() - 1];
    assert!(verify_inclusion(index, size, &leaf, cut, &root).is_err());
    let cut = &proof[..proof.len() - 1];
    assert!(verify_consistency(c.old_size, size, &old_root, &root, cut).is_err());
    let mut padded = audit.clone();
    padded.push(root);
    assert!(verify_inclusion(index, size, &leaf, &padded, &root).is_err());
}

#[test]
fn every_small_proof_matches_the_reference() {
    let f = fixture();
    for n in 1..=64usize {
        for m in 0..n {
            let proof = inclusion_proof(m as u64, n as u64, &f.nodes).unwrap();
            assert_eq!(proof, ref_path(m, &f.leaves[..n]), "PATH({m}, {n})");
            verify_inclusion(m as u64, n as u64, &f.leaves[m], &proof, &f.roots[n]).unwrap();
        }
        for m in 1..=n {
            let proof = consistency_proof(m as u64, n as u64, &f.nodes).unwrap();
            assert_eq!(proof, ref_proof(m, &f.leaves[..n]), "PROOF({m}, {n})");
            verify_consistency(m as u64, n as u64, &f.roots[m], &f.roots[n], &proof).unwrap();
        }
    }
}

#[test]
fn bad_arguments_are_errors() {
    let f = fixture();
    assert!(matches!(
        inclusion_proof(5, 5, &f.nodes),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    ));
    assert!(inclusion_proof(0, 0, &f.nodes).is_err());
    assert!(matches!(
        consistency_proof(0, 3, &f.nodes),
        Err(ProofError::OldSizeZero)
    ));
    assert!(matches!(
        consistency_proof(4, 3, &f.nodes),
        Err(ProofError::OldSizeAfterNewSize { .. })
    ));
    assert!(consistency_proof(3, 3, &f.nodes).unwrap().is_empty());
    // Asking beyond what the source holds is the source's error, not a panic.
    let beyond = TREE as u64 + 10;
    assert!(matches!(
        inclusion_proof(beyond - 1, beyond, &f.nodes),
        Err(ProofError::Source { .. })
    ));
    assert!(root_at(beyond, &f.nodes).is_err());
    assert_eq!(root_at(0, &f.nodes).unwrap(), empty_root());
}

#[test]
fn huge_trees_need_few_lookups_and_still_verify() {
    let uniform = Uniform::new();
    let src = Counting {
        inner: uniform,
        lookups: Cell::new(0),
    };
    let sizes = [
        1,
        2,
        3,
        1 << 40,
        (1 << 40) + 12345,
        (1 << 63) + 1,
        u64::MAX - 1,
        u64::MAX,
    ];
    let mut roots = Vec::new();
    for &size in &sizes {
        src.lookups.set(0);
        roots.push(root_at(size, &src).unwrap());
        assert!(src.lookups.get() <= 64);
    }
    for (i, &size) in sizes.iter().enumerate() {
        for index in [0, size / 3, size / 2, size - 1] {
            src.lookups.set(0);
            let proof = inclusion_proof(index, size, &src).unwrap();
            assert!(src.lookups.get() <= 2 * 64, "{} lookups", src.lookups.get());
            verify_inclusion(index, size, &src.inner.by_level[0], &proof, &roots[i]).unwrap();
        }
        for (j, &old) in sizes.iter().enumerate().take(i + 1) {
            src.lookups.set(0);
            let proof = consistency_proof(old, size, &src).unwrap();
            assert!(src.lookups.get() <= 2 * 64, "{} lookups", src.lookups.get());
            verify_consistency(old, size, &roots[j], &roots[i], &proof).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn inclusion_matches_reference_and_binds_leaf_and_size(
        (size, index, other) in (1..=TREE).prop_flat_map(|n| (Just(n), 0..n, 0..n)),
        other_size in 1..=TREE,
    ) {
        let f = fixture();
        let proof = inclusion_proof(index as u64, size as u64, &f.nodes).unwrap();
        prop_assert_eq!(&proof, &ref_path(index, &f.leaves[..size]));
        let (i, n) = (index as u64, size as u64);
        prop_assert!(verify_inclusion(i, n, &f.leaves[index], &proof, &f.roots[size]).is_ok());
        if other != index {
            let o = other as u64;
            prop_assert!(verify_inclusion(i, n, &f.leaves[other], &proof, &f.roots[size]).is_err());
            prop_assert!(verify_inclusion(o, n, &f.leaves[other], &proof, &f.roots[size]).is_err());
            prop_assert!(verify_inclusion(o, n, &f.leaves[index], &proof, &f.roots[size]).is_err());
        }
        if other_size != size && index < other_size {
            let root = &f.roots[other_size];
            let s = other_size as u64;
            prop_assert!(verify_inclusion(i, s, &f.leaves[index], &proof, root).is_err());
        }
    }

    #[test]
    fn consistency_matches_reference_and_binds_sizes(
        (new, old) in (1..=TREE).prop_flat_map(|n| (Just(n), 1..=n)),
        other in 1..=TREE,
    ) {
        let f = fixture();
        let proof = consistency_proof(old as u64, new as u64, &f.nodes).unwrap();
        prop_assert_eq!(&proof, &ref_proof(old, &f.leaves[..new]));
        let (m, n) = (old as u64, new as u64);
        prop_assert!(verify_consistency(m, n, &f.roots[old], &f.roots[new], &proof).is_ok());
        if other != old && other <= new {
            let o = other as u64;
            prop_assert!(verify_consistency(o, n, &f.roots[other], &f.roots[new], &proof).is_err());
        }
        if other != new && other >= old {
            let o = other as u64;
            prop_assert!(verify_consistency(m, o, &f.roots[old], &f.roots[other], &proof).is_err());
        }
        if old != new {
            let mut bad = proof.clone();
            bad[0][0] ^= 1;
            prop_assert!(verify_consistency(m, n, &f.roots[old], &f.roots[new], &bad).is_err());
        }
    }

    #[test]
    fn verifiers_never_panic(
        index in any::<u64>(),
        size in any::<u64>(),
        old in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
        a in any::<[u8; 32]>(),
        b in any::<[u8; 32]>(),
    ) {
        let _ = verify_inclusion(index, size, &a, &proof, &b);
        let _ = verify_consistency(old, size, &a, &b, &proof);
        let _ = verify_consistency(old % 1000, size % 1000, &a, &b, &proof);
        let _ = verify_inclusion(index % 1000, size % 1000, &a, &proof, &b);
    }

    #[test]
    fn frontier_from_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(mut frontier) = Frontier::from_bytes(&bytes) {
            prop_assert_eq!(frontier.to_bytes(), bytes);
            let _ = frontier.root();
            let _ = frontier.push([0; 32]);
        }
    }
}
