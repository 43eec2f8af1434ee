#!/bin/sh
# Loads the demo directory into the compose stack's OpenLDAP, once: waits for slapd, then (unless the people
# are there already) adds the demo entries with the Relax control — they carry entryUUID (the OIDC `sub`) and
# pwdAccountLockedTime, which slapd accepts only that way, from the rootdn — then the password policy that
# makes locks count, and the login service's read-only account `cn=sso` with its password.
#
# Environment (defaults are the container's): LDAP_URL, LDAP_ADMIN_PASSWORD_FILE, LDAP_SSO_PASSWORD_FILE,
# SEED_LDIF.
set -eu
url="${LDAP_URL:-ldap://openldap:1389}"
admin="cn=admin,dc=danang,dc=gov,dc=vn"
admin_password_file="${LDAP_ADMIN_PASSWORD_FILE:-/run/secrets/ldap_admin_password}"
sso_password_file="${LDAP_SSO_PASSWORD_FILE:-/run/secrets/ldap_password}"
ldif="${SEED_LDIF:-/seed/demo-directory.ldif}"
export LDAPNOINIT=1

tries=0
until ldapsearch -x -H "$url" -b "" -s base "(objectClass=*)" namingContexts >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "seed-ldap: $url does not answer" >&2
        exit 1
    fi
    sleep 1
done

if ldapsearch -x -H "$url" -D "$admin" -y "$admin_password_file" -b "ou=people,dc=danang,dc=gov,dc=vn" \
    -s base "(objectClass=*)" dn >/dev/null 2>&1; then
    echo "seed-ldap: the directory is seeded already"
    exit 0
fi

ldapadd -x -H "$url" -D "$admin" -y "$admin_password_file" -e relax -f "$ldif" >/dev/null
sso_password="$(cat "$sso_password_file")"
ldapadd -x -H "$url" -D "$admin" -y "$admin_password_file" >/dev/null <<LDIF
dn: ou=policies,dc=danang,dc=gov,dc=vn
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,dc=danang,dc=gov,dc=vn
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 0

dn: cn=sso,dc=danang,dc=gov,dc=vn
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: sso
description: The login service's read-only account
userPassword: $sso_password
LDIF
echo "seed-ldap: demo directory loaded"
