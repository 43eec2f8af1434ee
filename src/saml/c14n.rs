//! Exclusive XML Canonicalization 1.0 without comments (<http://www.w3.org/2001/10/xml-exc-c14n#>) of a subtree.
//!
//! XML signatures digest and sign canonical bytes, so signer and verifier must produce exactly the same octets.
//! We use it both ways: our own Responses are built as trees and written only through [`canonicalize`], so what
//! we send *is* the canonical form of what we signed; received signed requests are canonicalised from their
//! parsed tree. The rules implemented (Exc-C14N §3, C14N 1.0 §2.3): no XML declaration, no comments, start and
//! end tags for empty elements, namespace declarations only where visibly used (plus an InclusiveNamespaces
//! PrefixList) and not already rendered by an output ancestor, declarations sorted by prefix, attributes sorted by
//! namespace URI then local name, and the C14N escaping of text and attribute values.

use super::xml::{Element, Node};

/// The canonical form of `apex` and its subtree. `exclude_child` drops one direct child (the enveloped-signature
/// transform removes the `Signature` being verified); `inclusive` is the InclusiveNamespaces PrefixList.
pub fn canonicalize(apex: &Element, exclude_child: Option<usize>, inclusive: &[String]) -> String {
    let mut out = String::with_capacity(4096);
    // The default namespace counts as rendered empty before the apex, so `xmlns=""` is only ever written to undo
    // a non-empty default of an output ancestor.
    let rendered = vec![(String::new(), String::new())];
    write(apex, &rendered, exclude_child, inclusive, &mut out);
    out
}

fn write(el: &Element, rendered: &[(String, String)], exclude: Option<usize>, inclusive: &[String], out: &mut String) {
    // The namespaces this element needs: its own prefix, its attributes' prefixes, and the inclusive ones in scope.
    let mut needed: Vec<(String, String)> = Vec::new();
    let mut need = |prefix: &str, uri: &str| {
        if prefix != "xml" && !needed.iter().any(|(p, _)| p == prefix) {
            needed.push((prefix.to_owned(), uri.to_owned()));
        }
    };
    need(el.prefix.as_deref().unwrap_or(""), el.ns.as_deref().unwrap_or(""));
    for a in &el.attrs {
        if let (Some(p), Some(ns)) = (&a.prefix, &a.ns) {
            need(p, ns);
        }
    }
    for p in inclusive {
        let prefix = if p == "#default" { "" } else { p.as_str() };
        match el.lookup(prefix) {
            Some(uri) => need(prefix, uri),
            None if prefix.is_empty() => need("", ""),
            None => {}
        }
    }
    needed.sort();
    let mut now_rendered = rendered.to_vec();
    let qname = qualified(el.prefix.as_deref(), &el.name);
    out.push('<');
    out.push_str(&qname);
    for (prefix, uri) in needed {
        let already = rendered.iter().rev().find(|(p, _)| *p == prefix).map(|(_, u)| u.as_str());
        if already == Some(uri.as_str()) {
            continue;
        }
        if prefix.is_empty() {
            out.push_str(" xmlns=\"");
        } else {
            out.push_str(" xmlns:");
            out.push_str(&prefix);
            out.push_str("=\"");
        }
        escape_attr(&uri, out);
        out.push('"');
        now_rendered.push((prefix, uri));
    }
    let mut attrs: Vec<_> = el.attrs.iter().collect();
    attrs.sort_by(|a, b| (a.ns.as_deref().unwrap_or(""), &a.name).cmp(&(b.ns.as_deref().unwrap_or(""), &b.name)));
    for a in attrs {
        out.push(' ');
        out.push_str(&qualified(a.prefix.as_deref(), &a.name));
        out.push_str("=\"");
        escape_attr(&a.value, out);
        out.push('"');
    }
    out.push('>');
    for (i, child) in el.children.iter().enumerate() {
        if Some(i) == exclude {
            continue;
        }
        match child {
            Node::Text(t) => escape_text(t, out),
            Node::Element(e) => write(e, &now_rendered, None, inclusive, out),
        }
    }
    out.push_str("</");
    out.push_str(&qname);
    out.push('>');
}

fn qualified(prefix: Option<&str>, name: &str) -> String {
    match prefix {
        Some(p) => format!("{p}:{name}"),
        None => name.to_owned(),
    }
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::xml::parse;

    fn c14n(doc: &str, path: &[usize]) -> String {
        let mut el = &parse(doc.as_bytes()).unwrap();
        for i in path {
            el = el.elements().nth(*i).unwrap();
        }
        canonicalize(el, None, &[])
    }

    #[test]
    fn writes_the_canonical_form() {
        let doc = "<?xml version=\"1.0\"?>\n<a:r xmlns:a=\"urn:a\" xmlns:unused=\"urn:u\" z=\"1\" b=\"x&quot;&lt;&#9;\">\
                   <!-- gone --><e/>t&gt;&amp;&#xD;<![CDATA[<c>]]></a:r>";
        assert_eq!(
            c14n(doc, &[]),
            "<a:r xmlns:a=\"urn:a\" b=\"x&quot;&lt;&#x9;\" z=\"1\"><e></e>t&gt;&amp;&#xD;&lt;c&gt;</a:r>"
        );
    }

    #[test]
    fn a_subtree_takes_only_the_namespaces_it_uses() {
        // Exc-C14N §2.2's point: the apex re-declares what it uses from its ancestors, and nothing else.
        let doc =
            r#"<p:R xmlns:p="urn:p" xmlns:s="urn:s" xmlns:x="urn:x"><s:A ID="1" x:k="v"><s:B>b</s:B><C/></s:A></p:R>"#;
        assert_eq!(c14n(doc, &[0]), r#"<s:A xmlns:s="urn:s" xmlns:x="urn:x" ID="1" x:k="v"><s:B>b</s:B><C></C></s:A>"#);
    }

    #[test]
    fn default_namespaces_are_rendered_and_undone() {
        let doc = r#"<r xmlns="urn:d"><a xmlns=""><b/></a><c xmlns="urn:d"/></r>"#;
        assert_eq!(c14n(doc, &[]), r#"<r xmlns="urn:d"><a xmlns=""><b></b></a><c></c></r>"#);
        assert_eq!(c14n(doc, &[0]), r#"<a><b></b></a>"#, "nothing to undo at the apex");
    }

    #[test]
    fn attributes_sort_by_namespace_then_name() {
        let doc = r#"<r xmlns:b="urn:b" xmlns:a="urn:z" b:x="1" a:x="2" y="3" x="4"/>"#;
        assert_eq!(c14n(doc, &[]), r#"<r xmlns:a="urn:z" xmlns:b="urn:b" x="4" y="3" b:x="1" a:x="2"></r>"#);
    }

    #[test]
    fn inclusive_prefixes_are_kept_and_a_child_can_be_excluded() {
        let root = parse(br#"<r xmlns:xs="urn:xs" xmlns:q="urn:q"><Sig/><v t="xs:string"/></r>"#).unwrap();
        assert_eq!(canonicalize(&root, Some(0), &["xs".into()]), r#"<r xmlns:xs="urn:xs"><v t="xs:string"></v></r>"#);
    }
}
