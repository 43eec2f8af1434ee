//! A small namespace-aware XML tree for SAML messages, and the parser for untrusted input.
//!
//! SAML messages are small, so the whole message becomes a tree: the signature code canonicalises exactly the
//! element it verified and the protocol code reads that same element, so nothing read can come from outside the
//! signed part. The parser is quick-xml (no DTD support at all, so no entity expansion) with our own limits:
//! a document type declaration or a processing instruction is refused outright, input is bounded in size, depth
//! and element count, only UTF-8 is accepted, and every prefix must be bound.

use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};

/// The largest message accepted (after base64 and DEFLATE decoding).
pub const MAX_BYTES: usize = 64 * 1024;
/// Deeper nesting than any SAML message needs.
pub const MAX_DEPTH: usize = 24;
pub const MAX_ELEMENTS: usize = 2000;

/// The `xml` prefix is bound by definition and never declared.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Why a message was not accepted as XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("message larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("elements nested deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("more than {MAX_ELEMENTS} elements")]
    TooManyElements,
    #[error("document type declarations are refused")]
    Doctype,
    #[error("processing instructions are refused")]
    ProcessingInstruction,
    #[error("not UTF-8")]
    Encoding,
    #[error("unbound namespace prefix {0}")]
    UnboundPrefix(String),
    #[error("malformed XML: {0}")]
    Malformed(String),
}

/// An attribute; `ns` is the namespace URI of its prefix (unprefixed attributes have none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub prefix: Option<String>,
    pub ns: Option<String>,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

/// An element with its resolved namespace. `scope` holds the namespace bindings in scope (prefix `""` is the
/// default namespace) for parsed elements; elements we build carry only what they use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub prefix: Option<String>,
    pub ns: Option<String>,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
    pub scope: Arc<Vec<(String, String)>>,
}

impl Element {
    /// A new element `prefix:name` in namespace `ns` (for the messages we write).
    pub fn new(prefix: &str, ns: &str, name: &str) -> Element {
        Element {
            prefix: Some(prefix.to_owned()),
            ns: Some(ns.to_owned()),
            name: name.to_owned(),
            attrs: Vec::new(),
            children: Vec::new(),
            scope: Arc::default(),
        }
    }

    /// Adds an unqualified attribute.
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Element {
        self.attrs.push(Attr { prefix: None, ns: None, name: name.to_owned(), value: value.into() });
        self
    }

    pub fn child(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Element {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// Whether this is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.name == name
    }

    /// The value of an unqualified attribute.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.ns.is_none() && a.name == name).map(|a| a.value.as_str())
    }

    /// Child elements, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Child elements named `{ns}name`.
    pub fn all<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.elements().filter(move |e| e.is(ns, name))
    }

    /// The first child element named `{ns}name`.
    pub fn first(&self, ns: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, name))
    }

    /// The element's own text (its text children joined), trimmed.
    pub fn text_content(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                out.push_str(t);
            }
        }
        out.trim().to_owned()
    }

    /// How many elements of this subtree carry the unqualified attribute `name` = `value` (to find duplicate IDs).
    pub fn count_attr_values(&self, name: &str, value: &str) -> usize {
        let own = usize::from(self.get(name) == Some(value));
        own + self.elements().map(|e| e.count_attr_values(name, value)).sum::<usize>()
    }

    /// The namespace bound to `prefix` (`""` for the default) where this element stands.
    pub fn lookup(&self, prefix: &str) -> Option<&str> {
        self.scope.iter().rev().find(|(p, _)| p == prefix).map(|(_, u)| u.as_str())
    }
}

/// Parses an untrusted message into a tree, within the limits above.
pub fn parse(input: &[u8]) -> Result<Element, XmlError> {
    if input.len() > MAX_BYTES {
        return Err(XmlError::TooLarge);
    }
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|_| XmlError::Encoding)?;
    // XML 1.0 §2.11: every line end reaches the application as a single line feed.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut reader = quick_xml::Reader::from_str(&text);
    reader.config_mut().check_end_names = true;
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| malformed(&e))?;
        match event {
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding()
                    && !enc.eq_ignore_ascii_case(b"utf-8")
                {
                    return Err(XmlError::Encoding);
                }
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::PI(_) => return Err(XmlError::ProcessingInstruction),
            Event::Comment(_) => {}
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                return Err(XmlError::Malformed(format!("content after the root: {:?}", e.name())));
            }
            Event::Start(e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooManyElements);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let el = element(&e, stack.last().map(|p| &p.scope))?;
                stack.push(el);
            }
            Event::Empty(e) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(XmlError::TooManyElements);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let el = element(&e, stack.last().map(|p| &p.scope))?;
                close(el, &mut stack, &mut root);
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| XmlError::Malformed("unexpected end tag".into()))?;
                close(el, &mut stack, &mut root);
            }
            Event::Text(t) => {
                let t = t.decode().map_err(|e| malformed(&e))?;
                push_text(&mut stack, &t)?;
            }
            Event::CData(t) => {
                let t = t.decode().map_err(|e| malformed(&e))?;
                push_text(&mut stack, &t)?;
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref().map_err(|e| malformed(&e))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| malformed(&e))?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| XmlError::Malformed(format!("undeclared entity &{name};")))?
                            .to_owned()
                    }
                };
                push_text(&mut stack, &ch)?;
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed("unclosed element".into()));
    }
    root.ok_or_else(|| XmlError::Malformed("no root element".into()))
}

fn close(el: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(el)),
        None => *root = Some(el),
    }
}

/// Appends text to the open element (merging with preceding text); outside the root only whitespace may stand.
fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    let Some(el) = stack.last_mut() else {
        return if text.trim().is_empty() {
            Ok(())
        } else {
            Err(XmlError::Malformed("text outside the root element".into()))
        };
    };
    match el.children.last_mut() {
        Some(Node::Text(t)) => t.push_str(text),
        _ => el.children.push(Node::Text(text.to_owned())),
    }
    Ok(())
}

fn split_qname(qname: &str) -> Result<(Option<&str>, &str), XmlError> {
    match qname.split_once(':') {
        None => Ok((None, qname)),
        Some((p, l)) if !p.is_empty() && !l.is_empty() && !l.contains(':') => Ok((Some(p), l)),
        _ => Err(XmlError::Malformed(format!("bad name {qname}"))),
    }
}

/// Builds an element from a start tag: namespace declarations first, then the names they resolve.
fn element(start: &BytesStart, parent_scope: Option<&Arc<Vec<(String, String)>>>) -> Result<Element, XmlError> {
    let malformed = |e: &dyn std::fmt::Display| XmlError::Malformed(e.to_string());
    let mut raw: Vec<(String, String)> = Vec::new();
    for a in start.attributes().with_checks(true) {
        let a = a.map_err(|e| malformed(&e))?;
        let key = std::str::from_utf8(a.key.as_ref()).map_err(|_| XmlError::Encoding)?.to_owned();
        let value = std::str::from_utf8(&a.value).map_err(|_| XmlError::Encoding)?;
        if value.contains('<') {
            return Err(XmlError::Malformed("'<' in an attribute value".into()));
        }
        // Attribute-value normalisation (XML 1.0 §3.3.3) for CDATA attributes: whitespace characters become spaces;
        // character references survive as what they stand for.
        let value = value.replace(['\t', '\n'], " ");
        let value = quick_xml::escape::unescape(&value).map_err(|e| malformed(&e))?.into_owned();
        raw.push((key, value));
    }
    let mut declared: Vec<(String, String)> = Vec::new();
    for (k, v) in &raw {
        if k == "xmlns" {
            declared.push((String::new(), v.clone()));
        } else if let Some(p) = k.strip_prefix("xmlns:") {
            if v.is_empty() || p == "xmlns" || (p == "xml") != (v == XML_NS) {
                return Err(XmlError::Malformed(format!("illegal namespace declaration {k}")));
            }
            declared.push((p.to_owned(), v.clone()));
        }
    }
    let scope = match (parent_scope, declared.is_empty()) {
        (Some(s), true) => s.clone(),
        (parent, _) => {
            let mut s: Vec<(String, String)> = parent.map(|p| p.as_ref().clone()).unwrap_or_default();
            s.retain(|(p, _)| !declared.iter().any(|(d, _)| d == p));
            s.extend(declared);
            Arc::new(s)
        }
    };
    let resolve = |prefix: &str| -> Result<Option<String>, XmlError> {
        if prefix == "xml" {
            return Ok(Some(XML_NS.to_owned()));
        }
        match scope.iter().rev().find(|(p, _)| p == prefix) {
            Some((_, uri)) if !uri.is_empty() => Ok(Some(uri.clone())),
            _ if prefix.is_empty() => Ok(None),
            _ => Err(XmlError::UnboundPrefix(prefix.to_owned())),
        }
    };
    let qname = std::str::from_utf8(start.name().as_ref()).map_err(|_| XmlError::Encoding)?.to_owned();
    let (prefix, name) = split_qname(&qname)?;
    if prefix == Some("xmlns") {
        return Err(XmlError::Malformed("element with the xmlns prefix".into()));
    }
    let ns = resolve(prefix.unwrap_or(""))?;
    let mut attrs: Vec<Attr> = Vec::new();
    for (k, v) in raw {
        if k == "xmlns" || k.starts_with("xmlns:") {
            continue;
        }
        let (p, local) = split_qname(&k)?;
        let ns = match p {
            Some(p) => resolve(p)?,
            None => None,
        };
        if attrs.iter().any(|a| a.ns == ns && a.name == local) {
            return Err(XmlError::Malformed(format!("duplicate attribute {k}")));
        }
        attrs.push(Attr { prefix: p.map(str::to_owned), ns, name: local.to_owned(), value: v });
    }
    Ok(Element { prefix: prefix.map(str::to_owned), ns, name: name.to_owned(), attrs, children: Vec::new(), scope })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaces_text_and_references() {
        let doc = br#"<?xml version="1.0" encoding="UTF-8"?>
<samlp:AuthnRequest xmlns:samlp="urn:p" xmlns:saml="urn:a" ID="_1"><!-- c --><saml:Issuer>https://sp/&amp;x&#x41;</saml:Issuer><x xmlns="urn:d" a="1&#10;2	3"/></samlp:AuthnRequest>"#;
        let root = parse(doc).unwrap();
        assert!(root.is("urn:p", "AuthnRequest"));
        assert_eq!(root.get("ID"), Some("_1"));
        assert_eq!(root.first("urn:a", "Issuer").unwrap().text_content(), "https://sp/&xA");
        let x = root.first("urn:d", "x").unwrap();
        assert_eq!(x.get("a"), Some("1\n2 3"), "char refs survive, literal tabs become spaces");
        assert_eq!(x.lookup(""), Some("urn:d"));
    }

    #[test]
    fn refuses_doctype_entities_and_processing_instructions() {
        let xxe = br#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#;
        assert_eq!(parse(xxe), Err(XmlError::Doctype));
        assert!(matches!(parse(b"<r>&x;</r>"), Err(XmlError::Malformed(_))));
        assert_eq!(parse(b"<r><?php x ?></r>"), Err(XmlError::ProcessingInstruction));
    }

    #[test]
    fn refuses_oversize_deep_and_unbound() {
        let big = format!("<r>{}</r>", "a".repeat(MAX_BYTES));
        assert_eq!(parse(big.as_bytes()), Err(XmlError::TooLarge));
        let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
        let many = format!("<r>{}</r>", "<a/>".repeat(MAX_ELEMENTS));
        assert_eq!(parse(many.as_bytes()), Err(XmlError::TooManyElements));
        assert_eq!(parse(b"<p:r/>"), Err(XmlError::UnboundPrefix("p".into())));
        assert!(parse(b"<r a='1' a='2'/>").is_err());
        assert!(parse(b"<r xmlns:p='u' xmlns:q='u' p:a='1' q:a='2'/>").is_err(), "same expanded name twice");
        assert!(parse(b"<r/><r/>").is_err());
        assert!(parse(b"<r>").is_err());
        assert_eq!(parse(b"\xff<r/>"), Err(XmlError::Encoding));
    }
}
