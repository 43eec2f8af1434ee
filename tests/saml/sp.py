#!/usr/bin/env python3
"""A SAML service provider for danang-sso's integration tests, built on pysaml2 (which checks XML signatures
with Debian's xmlsec1). The Rust tests (tests/it/saml*.rs) drive the browser side; this script plays the SP:
it makes its own key and metadata, writes AuthnRequests and LogoutRequests in both bindings, and validates what
the IdP sends back. Every command prints one JSON object; a refused message exits with status 3.

    sp.py init WORKDIR ENTITY_ID BASE_URL          key, certificate, sp.json, sp-metadata.xml
    sp.py metadata WORKDIR                          the SP's metadata (after WORKDIR/idp.xml exists too)
    sp.py authn WORKDIR [--binding redirect|post] [--unsigned] [--force] [--passive] [--acs URL] [--relay-state RS]
                    [--name-id-format emailAddress|transient]
    sp.py response WORKDIR REQUEST_ID               stdin: {"SAMLResponse": ..., "RelayState": ...}
    sp.py logout WORKDIR NAME_ID SESSION_INDEX [--binding redirect|post] [--unsigned] [--format emailAddress|transient]
    sp.py logout-request WORKDIR URL                an IdP LogoutRequest (Redirect binding) the browser was sent to
    sp.py logout-response WORKDIR URL               the IdP's LogoutResponse to our LogoutRequest
"""

import argparse
import datetime
import json
import os
import re
import shutil
import sys
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_TRANSIENT, AuthnContextClassRef, NameID
from saml2.samlp import RequestedAuthnContext
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

BINDINGS = {"redirect": BINDING_HTTP_REDIRECT, "post": BINDING_HTTP_POST}


def out(obj, code=0):
    print(json.dumps(obj))
    sys.exit(code)


def refuse(error):
    out({"error": f"{type(error).__name__}: {error}"}, 3)


def init(workdir, entity_id, base_url):
    os.makedirs(workdir, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pysaml2 test SP")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    with open(os.path.join(workdir, "sp.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(os.path.join(workdir, "sp.crt"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    settings = {"entity_id": entity_id, "acs": f"{base_url}/acs", "slo": f"{base_url}/slo"}
    with open(os.path.join(workdir, "sp.json"), "w") as f:
        json.dump(settings, f)
    metadata = create_metadata_string(None, config=config(workdir, with_idp=False), valid=24).decode()
    with open(os.path.join(workdir, "sp-metadata.xml"), "w") as f:
        f.write(metadata)
    out(settings)


def config(workdir, with_idp=True, sign_requests=True):
    with open(os.path.join(workdir, "sp.json")) as f:
        s = json.load(f)
    xmlsec = shutil.which("xmlsec1")
    if not xmlsec:
        out({"error": "xmlsec1 is missing: run bash .ci/test"}, 4)
    conf = {
        "entityid": s["entity_id"],
        "xmlsec_binary": xmlsec,
        "key_file": os.path.join(workdir, "sp.key"),
        "cert_file": os.path.join(workdir, "sp.crt"),
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "accepted_time_diff": 60,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(s["acs"], BINDING_HTTP_POST)],
                    "single_logout_service": [(s["slo"], BINDING_HTTP_REDIRECT)],
                },
                "authn_requests_signed": sign_requests,
                "logout_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": True,
                "allow_unsolicited": False,
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
            }
        },
    }
    if with_idp:
        conf["metadata"] = {"local": [os.path.join(workdir, "idp.xml")]}
    sp_config = SPConfig()
    sp_config.load(conf)
    return sp_config


def client(workdir, **kwargs):
    return Saml2Client(config(workdir, **kwargs))


def idp_entity(c):
    return next(iter(c.metadata.identity_providers()))


def message_out(info, request_id=None):
    """The browser's next step: a URL to GET (Redirect) or a form to POST (POST binding)."""
    result = {"id": request_id, "method": info["method"], "url": info["url"]}
    if info["method"] == "GET":
        result["url"] = dict(info["headers"])["Location"]
    else:
        fields = re.findall(r'name="([^"]+)" value="([^"]*)"', info["data"])
        result["form"] = {k: v.replace("&quot;", '"').replace("&amp;", "&") for k, v in fields}
    return result


def authn(args):
    c = client(args.workdir, sign_requests=not args.unsigned)
    extra = {}
    if args.force:
        extra["force_authn"] = "true"
    if args.passive:
        extra["is_passive"] = "true"
    if args.acs:
        extra["assertion_consumer_service_url"] = args.acs
    if args.name_id_format:
        extra["nameid_format"] = FORMATS[args.name_id_format]
    if args.authn_context:
        extra["requested_authn_context"] = RequestedAuthnContext(
            authn_context_class_ref=[AuthnContextClassRef(text=c) for c in args.authn_context],
            comparison=args.comparison,
        )
    request_id, info = c.prepare_for_authenticate(
        entityid=idp_entity(c),
        relay_state=args.relay_state,
        binding=BINDINGS[args.binding],
        sign=not args.unsigned,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        **extra,
    )
    out(message_out(info, request_id))


def response(args):
    posted = json.load(sys.stdin)
    c = client(args.workdir)
    try:
        r = c.parse_authn_request_response(posted["SAMLResponse"], BINDING_HTTP_POST, outstanding={args.request_id: "/"})
    except Exception as e:  # pysaml2 raises many kinds; any of them is a refusal
        refuse(e)
    if r is None:
        refuse(ValueError("no response"))
    status = r.response.status.status_code
    assertion = r.assertion
    out(
        {
            "issuer": r.issuer(),
            "in_response_to": r.in_response_to,
            "status": status.value,
            "name_id": r.name_id.text if r.name_id else None,
            "name_id_format": r.name_id.format if r.name_id else None,
            "attributes": r.get_identity(),
            "session_index": assertion.authn_statement[0].session_index,
            "audience": [a.audience[0].text for a in assertion.conditions.audience_restriction],
            "relay_state": posted.get("RelayState"),
            "authn_context_class": assertion.authn_statement[0].authn_context.authn_context_class_ref.text,
        }
    )


def logout(args):
    c = client(args.workdir)
    idp = idp_entity(c)
    binding = BINDINGS[args.binding]
    destination = c.metadata.single_logout_service(idp, binding, "idpsso")[0]["location"]
    name_id = NameID(text=args.name_id, format=FORMATS[args.format])
    sign_xml = binding == BINDING_HTTP_POST and not args.unsigned
    request_id, request = c.create_logout_request(
        destination,
        idp,
        name_id=name_id,
        session_indexes=[args.session_index],
        sign=sign_xml,
        sign_alg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
    )
    info = c.apply_binding(
        binding, str(request), destination, relay_state="ve-trang-chu", sign=not args.unsigned, sigalg=SIG_RSA_SHA256
    )
    out(message_out(info, request_id))


def signed_query(c, url, key):
    """Checks the Redirect-binding signature of an IdP message with the IdP's certificates from its metadata."""
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    certs = c.metadata.certs(idp_entity(c), "idpsso", "signing")
    if not query.get("Signature") or not any(verify_redirect_signature(query, c.sec.sec_backend, cert) for _, cert in certs):
        refuse(ValueError("the redirect signature does not verify"))
    return query


def logout_request(args):
    c = client(args.workdir)
    query = signed_query(c, args.url, "SAMLRequest")
    try:
        req = c.parse_logout_request(query["SAMLRequest"], BINDING_HTTP_REDIRECT)
    except Exception as e:
        refuse(e)
    msg = req.message
    out(
        {
            "issuer": msg.issuer.text,
            "destination": msg.destination,
            "name_id": msg.name_id.text,
            "session_indexes": [s.text for s in msg.session_index],
        }
    )


def logout_response(args):
    c = client(args.workdir)
    query = signed_query(c, args.url, "SAMLResponse")
    try:
        r = c.parse_logout_request_response(query["SAMLResponse"], BINDING_HTTP_REDIRECT)
    except Exception as e:
        refuse(e)
    out(
        {
            "issuer": r.issuer(),
            "in_response_to": r.in_response_to,
            "status": r.response.status.status_code.value,
            "relay_state": query.get("RelayState"),
        }
    )


FORMATS = {"emailAddress": NAMEID_FORMAT_EMAILADDRESS, "transient": NAMEID_FORMAT_TRANSIENT}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("init")
    s.add_argument("workdir")
    s.add_argument("entity_id")
    s.add_argument("base_url")
    s = sub.add_parser("metadata")
    s.add_argument("workdir")
    s = sub.add_parser("authn")
    s.add_argument("workdir")
    s.add_argument("--binding", default="redirect", choices=BINDINGS)
    s.add_argument("--unsigned", action="store_true")
    s.add_argument("--force", action="store_true")
    s.add_argument("--passive", action="store_true")
    s.add_argument("--acs")
    s.add_argument("--relay-state", default="")
    s.add_argument("--name-id-format", choices=["emailAddress", "transient"])
    s.add_argument("--authn-context", action="append", help="a RequestedAuthnContext class reference (repeatable)")
    s.add_argument("--comparison", default="exact", choices=["exact", "minimum", "better", "maximum"])
    s = sub.add_parser("response")
    s.add_argument("workdir")
    s.add_argument("request_id")
    s = sub.add_parser("logout")
    s.add_argument("workdir")
    s.add_argument("name_id")
    s.add_argument("session_index")
    s.add_argument("--binding", default="redirect", choices=BINDINGS)
    s.add_argument("--unsigned", action="store_true")
    s.add_argument("--format", default="emailAddress", choices=["emailAddress", "transient"])
    s = sub.add_parser("logout-request")
    s.add_argument("workdir")
    s.add_argument("url")
    s = sub.add_parser("logout-response")
    s.add_argument("workdir")
    s.add_argument("url")
    args = p.parse_args()
    if args.command == "init":
        init(args.workdir, args.entity_id, args.base_url)
    elif args.command == "metadata":
        print(create_metadata_string(None, config=config(args.workdir, with_idp=False), valid=24).decode())
    else:
        {
            "authn": authn,
            "response": response,
            "logout": logout,
            "logout-request": logout_request,
            "logout-response": logout_response,
        }[args.command](args)


if __name__ == "__main__":
    main()
