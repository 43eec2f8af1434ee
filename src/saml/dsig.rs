//! Enveloped XML signatures (XML-DSig 1.0) as SAML uses them: RSA-SHA256 over Exclusive C14N, one Reference to
//! the signed element's own `ID`.
//!
//! Signing: the element is canonicalised without its signature, digested, and a `SignedInfo` naming that digest
//! is canonicalised and signed; the `Signature` then goes in after the element's `Issuer`.
//! Verifying accepts only that shape, on the *root* of a received message: exactly one `Signature` child, one
//! Reference whose URI is `#` + the root's `ID` (an ID no other element in the message repeats), the transforms
//! enveloped-signature then Exclusive C14N, SHA-256 (SHA-1 only when the operator allows it). The caller then
//! reads that same root element, so a signature over some other element can never vouch for what is used
//! (no signature wrapping). `KeyInfo` in a message is ignored: keys come from the configuration only.

use super::c14n::canonicalize;
use super::cert::{VerifyingKey, from_base64};
use super::ns;
use super::xml::{Element, Node};
use crate::keys::{Key, KeyError};

pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsigError {
    #[error("signature not of the accepted shape: {0}")]
    Shape(&'static str),
    #[error("SHA-1 signatures are refused (saml.allow_sha1)")]
    Sha1,
    #[error("the signed content does not match its digest")]
    Digest,
    #[error("the signature does not verify with the service provider's certificate")]
    Signature,
    #[error("the service provider has no certificate to check signatures with")]
    NoKey,
}

fn ds(name: &str) -> Element {
    Element::new("ds", ns::DSIG, name)
}

/// Signs `el` (which must carry `ID`) in place: the `Signature` goes in as child number `position`.
pub fn sign(el: &mut Element, position: usize, key: &Key, cert_der: &[u8]) -> Result<(), KeyError> {
    let id = el.get("ID").ok_or(KeyError::Sign)?.to_owned();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonicalize(el, None, &[]).as_bytes());
    let signed_info = ds("SignedInfo")
        .child(ds("CanonicalizationMethod").attr("Algorithm", EXC_C14N))
        .child(ds("SignatureMethod").attr("Algorithm", RSA_SHA256))
        .child(
            ds("Reference")
                .attr("URI", format!("#{id}"))
                .child(
                    ds("Transforms")
                        .child(ds("Transform").attr("Algorithm", ENVELOPED))
                        .child(ds("Transform").attr("Algorithm", EXC_C14N)),
                )
                .child(ds("DigestMethod").attr("Algorithm", SHA256))
                .child(ds("DigestValue").text(super::cert::base64(digest.as_ref()))),
        );
    let value = key.sign_rsa_sha256(canonicalize(&signed_info, None, &[]).as_bytes())?;
    let signature = ds("Signature")
        .child(signed_info)
        .child(ds("SignatureValue").text(super::cert::base64(&value)))
        .child(ds("KeyInfo").child(ds("X509Data").child(ds("X509Certificate").text(super::cert::base64(cert_der)))));
    let position = position.min(el.children.len());
    el.children.insert(position, Node::Element(signature));
    Ok(())
}

/// Verifies the enveloped signature of a received message's `root`. `Ok(false)`: the root is not signed.
pub fn verify(root: &Element, keys: &[VerifyingKey], allow_sha1: bool) -> Result<bool, DsigError> {
    let positions: Vec<usize> = root
        .children
        .iter()
        .enumerate()
        .filter(|(_, n)| matches!(n, Node::Element(e) if e.is(ns::DSIG, "Signature")))
        .map(|(i, _)| i)
        .collect();
    let position = match positions[..] {
        [] => return Ok(false),
        [one] => one,
        _ => return Err(DsigError::Shape("more than one Signature")),
    };
    let Node::Element(signature) = &root.children[position] else { return Err(DsigError::Shape("no Signature")) };
    if keys.is_empty() {
        return Err(DsigError::NoKey);
    }
    let signed_info = only(signature, "SignedInfo")?;
    let c14n = only(signed_info, "CanonicalizationMethod")?;
    if c14n.get("Algorithm") != Some(EXC_C14N) {
        return Err(DsigError::Shape("CanonicalizationMethod must be Exclusive C14N without comments"));
    }
    let sha1 = match only(signed_info, "SignatureMethod")?.get("Algorithm") {
        Some(RSA_SHA256) => false,
        Some(RSA_SHA1) if allow_sha1 => true,
        Some(RSA_SHA1) => return Err(DsigError::Sha1),
        _ => return Err(DsigError::Shape("SignatureMethod must be RSA-SHA256")),
    };
    let reference = only(signed_info, "Reference")?;
    let id = root.get("ID").filter(|id| !id.is_empty()).ok_or(DsigError::Shape("the signed element has no ID"))?;
    if reference.get("URI") != Some(&format!("#{id}")) {
        return Err(DsigError::Shape("the Reference is not to the message itself"));
    }
    if root.count_attr_values("ID", id) != 1 {
        return Err(DsigError::Shape("the ID is not unique in the message"));
    }
    let transforms: Vec<&Element> = only(reference, "Transforms")?.elements().collect();
    let inclusive = match transforms[..] {
        [t1, t2]
            if t1.is(ns::DSIG, "Transform")
                && t2.is(ns::DSIG, "Transform")
                && t1.get("Algorithm") == Some(ENVELOPED)
                && t2.get("Algorithm") == Some(EXC_C14N) =>
        {
            prefix_list(t2)
        }
        _ => return Err(DsigError::Shape("Transforms must be enveloped-signature then Exclusive C14N")),
    };
    let digest_alg = match only(reference, "DigestMethod")?.get("Algorithm") {
        Some(SHA256) => &aws_lc_rs::digest::SHA256,
        Some(SHA1) if allow_sha1 => &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
        Some(SHA1) => return Err(DsigError::Sha1),
        _ => return Err(DsigError::Shape("DigestMethod must be SHA-256")),
    };
    let expected = from_base64(&only(reference, "DigestValue")?.text_content()).ok_or(DsigError::Digest)?;
    let digest = aws_lc_rs::digest::digest(digest_alg, canonicalize(root, Some(position), &inclusive).as_bytes());
    if aws_lc_rs::constant_time::verify_slices_are_equal(digest.as_ref(), &expected).is_err() {
        return Err(DsigError::Digest);
    }
    let value = from_base64(&only(signature, "SignatureValue")?.text_content()).ok_or(DsigError::Signature)?;
    let message = canonicalize(signed_info, None, &prefix_list(c14n));
    if keys.iter().any(|k| k.verify(sha1, message.as_bytes(), &value)) { Ok(true) } else { Err(DsigError::Signature) }
}

/// The one child `ds:{name}` of `el`; none or several is refused.
fn only<'a>(el: &'a Element, name: &'static str) -> Result<&'a Element, DsigError> {
    let mut found = el.all(ns::DSIG, name);
    match (found.next(), found.next()) {
        (Some(e), None) => Ok(e),
        _ => Err(DsigError::Shape(name)),
    }
}

/// The `PrefixList` of an `ec:InclusiveNamespaces` child of a transform or canonicalization method.
fn prefix_list(method: &Element) -> Vec<String> {
    method
        .first(EXC_C14N, "InclusiveNamespaces")
        .and_then(|e| e.get("PrefixList"))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
