//! The floors, measured in the same run: what the server cannot avoid spending per operation.
//!
//! - Signatures: CPU time per signature on one thread with aws-lc-rs, the library and key types the
//!   server signs with (RSA-2048 PKCS#1 v1.5 SHA-256, ECDSA P-256 SHA-256, Ed25519), over a signing input
//!   the size of a real ID token; plus one RS256 verification (userinfo and introspection verify one).
//! - The directory: search + bind pairs with ldap3 (the server's LDAP client) against the same slapd,
//!   the same filter and attributes, on warm connections, eight at a time like the server's pools: the rate
//!   slapd sustains, the client's CPU per pair (the floor for our process) and slapd's.

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use danang_sso::config::LdapConfig;
use danang_sso::directory::ldap::AccountSearch;
use ldap3::{LdapConnAsync, Scope, SearchEntry, SearchOptions};
use serde::Serialize;

use crate::accounts::{Account, PASSWORD};
use crate::procfs;

/// A bound on calls, besides the time bound.
const MAX_CALLS: u64 = 1_000_000;

/// CPU microseconds per call on one core.
#[derive(Debug, Clone, Serialize)]
pub struct Signatures {
    pub rs256_sign_us: f64,
    pub es256_sign_us: f64,
    pub eddsa_sign_us: f64,
    pub rs256_verify_us: f64,
}

/// slapd's search + bind pairs through ldap3.
#[derive(Debug, Clone, Serialize)]
pub struct Directory {
    pub concurrency: usize,
    pub pairs_per_second: f64,
    /// CPU of the LDAP client (this process) per pair: the floor counted for the server.
    pub client_cpu_us: f64,
    pub slapd_cpu_us: f64,
    /// One pair's round trips on an idle connection pair.
    pub sequential_latency_us: f64,
}

/// Measures every signature floor on a thread of its own, `each` long per kind.
pub fn signatures(each: Duration) -> Signatures {
    std::thread::spawn(move || {
        let rng = SystemRandom::new();
        let input = signing_input();
        let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("an RSA key");
        let ec = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("a P-256 key");
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("an Ed25519 key");
        let ed = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("the Ed25519 key parses");
        let mut rsa_sig = vec![0; rsa.public_modulus_len()];
        let rs256_sign_us = cpu_per_call(each, || {
            rsa.sign(&signature::RSA_PKCS1_SHA256, &rng, &input, &mut rsa_sig).expect("RSA signs");
        });
        let es256_sign_us = cpu_per_call(each, || {
            black_box(ec.sign(&rng, &input).expect("ECDSA signs"));
        });
        let eddsa_sign_us = cpu_per_call(each, || {
            black_box(ed.sign(&input));
        });
        let public = UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, rsa.public_key().as_ref().to_vec());
        let rs256_verify_us = cpu_per_call(each, || public.verify(&input, &rsa_sig).expect("the signature verifies"));
        Signatures { rs256_sign_us, es256_sign_us, eddsa_sign_us, rs256_verify_us }
    })
    .join()
    .expect("the signature floor thread panicked")
}

/// A JWS signing input (header.payload, base64url) the size of an ID token with profile and email claims.
fn signing_input() -> Vec<u8> {
    let header = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6IkJnWkZ4T3VpSjZhVlR6VjAifQ";
    let payload = "x".repeat(620);
    format!("{header}.{payload}").into_bytes()
}

/// This thread's CPU microseconds per call of `f`, over `duration` (at most [`MAX_CALLS`] calls).
fn cpu_per_call(duration: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let (start, cpu) = (Instant::now(), procfs::thread_cpu_ns());
    let mut calls = 0u64;
    while calls < MAX_CALLS && start.elapsed() < duration {
        for _ in 0..8 {
            f();
        }
        calls += 8;
    }
    (procfs::thread_cpu_ns() - cpu) as f64 / 1000.0 / calls as f64
}

/// Where and as whom the floor searches.
pub struct Slapd<'a> {
    pub url: &'a str,
    pub base_dn: &'a str,
    pub service_dn: &'a str,
    pub service_password: &'a str,
    pub pid: u32,
}

/// Measures search + bind pairs: one connection pair alone, then as many pairs as the server's default
/// `[ldap] pool_size` for `duration`.
pub async fn directory(slapd: &Slapd<'_>, accounts: &[Account], duration: Duration) -> Directory {
    let mut alone = Pair::open(slapd).await;
    let started = Instant::now();
    let mut sequential = 0u32;
    while sequential < 10_000 && started.elapsed() < duration / 4 {
        alone.search_and_bind(slapd.base_dn, &accounts[sequential as usize % accounts.len()]).await;
        sequential += 1;
    }
    let sequential_latency_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(sequential.max(1));

    let mut pairs = Vec::new();
    let concurrency = LdapConfig::default().pool_size;
    for _ in 0..concurrency {
        pairs.push(Pair::open(slapd).await);
    }
    let (client, server, from) =
        (procfs::cpu_seconds(std::process::id()), procfs::cpu_seconds(slapd.pid), Instant::now());
    let until = from + duration;
    let tasks: Vec<_> = pairs
        .into_iter()
        .enumerate()
        .map(|(n, mut pair)| {
            let accounts: Vec<Account> = accounts.iter().skip(n).step_by(concurrency).cloned().collect();
            let base = slapd.base_dn.to_owned();
            tokio::spawn(async move {
                let mut done = 0u64;
                while done < MAX_CALLS && Instant::now() < until {
                    pair.search_and_bind(&base, &accounts[done as usize % accounts.len()]).await;
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await.expect("an LDAP floor task panicked");
    }
    let (seconds, done_f) = (from.elapsed().as_secs_f64(), done.max(1) as f64);
    Directory {
        concurrency,
        pairs_per_second: done as f64 / seconds,
        client_cpu_us: (procfs::cpu_seconds(std::process::id()) - client) * 1e6 / done_f,
        slapd_cpu_us: (procfs::cpu_seconds(slapd.pid) - server) * 1e6 / done_f,
        sequential_latency_us,
    }
}

/// A service-account connection for searches and one for users' binds, as the server's two pools hold.
struct Pair {
    search: ldap3::Ldap,
    bind: ldap3::Ldap,
    /// The server's own account search (the default `[ldap]` config, as the bench's server runs).
    query: AccountSearch,
    attributes: Vec<String>,
}

impl Pair {
    async fn open(slapd: &Slapd<'_>) -> Pair {
        let connect = || async {
            let (conn, ldap) = LdapConnAsync::new(slapd.url).await.expect("connect to slapd");
            ldap3::drive!(conn);
            ldap
        };
        let mut search = connect().await;
        search.simple_bind(slapd.service_dn, slapd.service_password).await.and_then(|r| r.success()).expect("bind");
        let query = AccountSearch::new(&LdapConfig::default());
        let attributes = query.attributes();
        Pair { search, bind: connect().await, query, attributes }
    }

    /// Finds the account by mailbox as the server does, then binds as it with its password.
    async fn search_and_bind(&mut self, base: &str, account: &Account) {
        let filter = self.query.filter(&account.mail);
        let (entries, _) = self
            .search
            .with_search_options(SearchOptions::new().sizelimit(2))
            .search(base, Scope::Subtree, &filter, self.attributes.clone())
            .await
            .and_then(|r| r.success())
            .expect("the account search succeeds");
        let entry = entries.into_iter().next().expect("the account exists");
        let dn = SearchEntry::construct(entry).dn;
        self.bind.simple_bind(&dn, PASSWORD).await.and_then(|r| r.success()).expect("the account's bind succeeds");
    }
}
